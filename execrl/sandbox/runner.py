"""The parent's side of one worker: starting it, and running one job through it.

For each job the parent makes the job's pipes and output files, asks the worker's fork server to
fork a job process that holds them, writes the job on one pipe and reads the report on the other.
The report is timed here, as it arrives, so every limit is enforced from outside the job: the job's
wall time, and each call's own limit (over it, the job is killed and the call is a timeout, whatever
the job says or does with its signals). The report is bounded here too: in bytes, in messages and in
what it may decode to, so that no job can make the parent's memory grow without bound.
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from execrl.sandbox.isolation import WorkerLaunch
from execrl.sandbox.worker import decode_hook, encode_value, remove_tree

_START_TIMEOUT_S = 30.0
_SERVER_SLACK_S = 30.0  # how long the fork server may take to answer before it is replaced
_POLL_S = 0.005
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, which Python only names from 3.10 on some platforms
_PIPE_BYTES = 1 << 20
# A call is over its limit when the parent saw it take longer than this past the limit: the report
# is read every few milliseconds, so finer than that cannot be told from outside.
TIMING_SLACK_S = 0.02
_KILL_GRACE_S = 0.05  # past a call's limit and the slack, the job is killed
_HEADER = re.compile(rb'\{"k":"([a-z_]{1,16})"(?:,"i":(\d{1,9})[,}])?')
_EXIT = struct.Struct("=cBBi18q")  # worker.py's exit record: tag, swept, removed, status, rusage
# Decoding a JSON report never costs more than this per byte, bracket and comma (a set is the largest
# container Python builds from 8 bytes of JSON: 216 bytes; see decoded_size_bound).
_BYTE_COST, _OPEN_COST, _COMMA_COST = 4, 232, 56


class WorkerDied(Exception):
    pass


def decoded_size_bound(data: bytes) -> int:
    """An upper bound on the memory that decoding ``data`` (our JSON report format) can take."""
    opens = data.count(b"[") + data.count(b"{")
    return _BYTE_COST * len(data) + _OPEN_COST * opens + _COMMA_COST * data.count(b",")


@dataclass
class JobSpec:
    """What the parent needs to run one job (the payload itself goes to the job process only)."""

    payload: bytes
    prelude: str
    limits: dict[str, Any]
    timeout_s: float
    call_limits: tuple[float, ...] | None
    result_bytes: int  # decoded-size budget of the whole report
    max_lines: int
    service: Callable[[Any], Any] | None = None
    max_host_calls: int = 0
    host_call_bytes: int = 0


@dataclass
class RawRun:
    """What the parent observed about one job: the report's lines and when each arrived, how the
    job process ended, and what the parent had to do about it."""

    lines: list[bytes]
    arrivals: list[float]
    started: float
    status: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    timed_out: bool = False
    call_timeout: int | None = None  # the call the parent killed the job in
    overflow: str | None = None  # why the report was cut, if it was
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    clean: bool = True  # the worker killed every leftover process and removed the job's directory
    host_calls: int = 0
    first_arrival: dict[tuple[str, int], float] = field(default_factory=dict)


class WorkerProcess:
    """One worker: a fork server in its namespaces, which forks a process per job."""

    def __init__(self, launch: WorkerLaunch) -> None:
        self.launch = launch
        self.jobs = 0
        self._stderr = tempfile.TemporaryFile()
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # One pair of output files for all of this worker's jobs, emptied before each: only the job
        # holds them (as its stdout and stderr), and all of a job's processes are dead before the next.
        self.out_fd = os.memfd_create("execrl-stdout", 0)
        self.err_fd = os.memfd_create("execrl-stderr", 0)
        seccomp_fd = None
        if launch.seccomp is not None:
            seccomp_fd = os.memfd_create("execrl-seccomp", 0)
            os.write(seccomp_fd, launch.seccomp)
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
        try:
            self.proc = subprocess.Popen(
                launch.argv(child.fileno(), seccomp_fd, (self.out_fd, self.err_fd)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env=launch.env,
                pass_fds=[child.fileno(), self.out_fd, self.err_fd]
                + ([seccomp_fd] if seccomp_fd is not None else []),
                start_new_session=True,
            )
        finally:
            child.close()
            if seccomp_fd is not None:
                os.close(seccomp_fd)
        try:
            ready = self._recv(time.monotonic() + _START_TIMEOUT_S)[0]
            if not json.loads(ready).get("ready"):
                raise WorkerDied(f"worker did not start: {self.stderr_tail()}")
        except (WorkerDied, ValueError):
            self.close()
            raise

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode("utf-8", "replace").strip() or "(no output)"

    def _recv(self, deadline: float, fds: int = 0) -> tuple[bytes, list[int]]:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
            raise WorkerDied("worker did not answer in time")
        data, received, _, _ = socket.recv_fds(self.sock, 1 << 16, max(fds, 1))
        if not data:
            raise WorkerDied(f"worker exited: {self.stderr_tail()}")
        return data, received

    def uid_for_next_job(self) -> int:
        from execrl.sandbox.isolation import UID_BLOCK

        base = self.launch.uid_base
        return -1 if base < 0 else base + self.jobs % UID_BLOCK

    def execute(self, spec: JobSpec) -> RawRun:
        """Run one job to its end (or kill it); raises WorkerDied when the worker itself failed."""
        uid = self.uid_for_next_job()
        self.jobs += 1
        out_fd, err_fd = self.out_fd, self.err_fd
        for fd in (out_fd, err_fd):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        in_r, in_w = os.pipe()
        rep_r, rep_w = os.pipe()
        for fd in (in_w, rep_r):
            try:
                import fcntl

                fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
            except OSError:
                pass  # the system's pipe limit is lower: the job just blocks a little more often
        request = {
            "uid": uid,
            "dir": os.path.join(self.launch.scratch, f"job-{self.jobs}"),
            "prelude": spec.prelude,
            "limits": spec.limits,
        }
        start = time.monotonic()
        run = RawRun([], [], start)
        try:
            try:
                socket.send_fds(self.sock, [json.dumps(request).encode()], [in_r, rep_w])
            except OSError as exc:
                raise WorkerDied(f"worker is gone: {exc}") from exc
            os.close(in_r)
            os.close(rep_w)
            in_r = rep_w = -1
            collector = _Collector(self, spec, run, in_w, rep_r)
            try:
                collector.collect()
            finally:
                in_w = collector.in_w
        finally:
            for fd in (in_r, rep_w, in_w, rep_r):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            cap = spec.limits["output_capture_bytes"]
            run.stdout = os.pread(out_fd, cap, 0).decode("utf-8", "replace")
            run.stderr = os.pread(err_fd, cap, 0).decode("utf-8", "replace")
            run.stdout_bytes = os.fstat(out_fd).st_size
            run.stderr_bytes = os.fstat(err_fd).st_size
        run.wall_s = time.monotonic() - start
        return run

    def close(self) -> None:
        try:
            self.sock.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()
        os.close(self.out_fd)
        os.close(self.err_fd)
        if self.launch.cleanup:
            try:
                remove_tree(self.launch.cleanup)
            except OSError:
                pass


class _Collector:
    """Reads one job's report until the worker says the job is over, enforcing the limits."""

    def __init__(self, worker: WorkerProcess, spec: JobSpec, run: RawRun, in_w: int, rep_r: int) -> None:
        self.worker, self.spec, self.run = worker, spec, run
        self.in_w, self.rep_r = in_w, rep_r
        self.partial = bytearray()
        self.bytes = 0
        self.killed = False
        self.pending = bytearray()  # host-call replies the job has not read yet
        self.loaded_at: float | None = None
        self.next_call = 0
        self.last_arrival = run.started
        self.eof = False  # every writer of the report pipe has closed it

    def kill(self) -> None:
        if not self.killed:
            self.killed = True
            try:
                self.worker.sock.send(b"K")  # the fork server kills the job process, then its leftovers
            except OSError as exc:
                raise WorkerDied(f"worker is gone: {exc}") from exc

    def collect(self) -> None:
        spec, run = self.spec, self.run
        os.set_blocking(self.rep_r, False)
        os.set_blocking(self.in_w, False)
        self.pending += struct.pack(">I", len(spec.payload)) + spec.payload
        self._flush_replies()
        job_deadline = run.started + spec.timeout_s
        server_deadline = None
        while True:
            now = time.monotonic()
            if not self.killed:
                if now >= job_deadline:
                    run.timed_out = True
                    self.kill()
                else:
                    call_deadline = self._call_deadline()
                    if call_deadline is not None and now >= call_deadline:
                        run.call_timeout = self.next_call
                        self.kill()
            if self.killed and server_deadline is None:
                server_deadline = now + _SERVER_SLACK_S
            if server_deadline is not None and now >= server_deadline:
                raise WorkerDied("worker did not finish a killed job")
            waits = [job_deadline, self._call_deadline() or job_deadline]
            timeout = max(0.0, min(waits) - now) if not self.killed else 0.05
            # Jobs with a service are read as soon as they write (a host call waits for its reply);
            # the others every few milliseconds, which spares them a context switch per message.
            eager = spec.service is not None or bool(self.pending)
            readers = [self.worker.sock] + ([self.rep_r] if eager and not self.eof else [])
            writers = [self.in_w] if self.pending and self.in_w >= 0 else []
            ready_r, ready_w, _ = select.select(
                readers, writers, [], timeout if eager else min(timeout, _POLL_S)
            )
            if ready_w:
                self._flush_replies()
            self._read_report(time.monotonic())
            if self.worker.sock in ready_r:
                break
        data, _ = self.worker._recv(time.monotonic() + _SERVER_SLACK_S)
        if len(data) != _EXIT.size or data[:1] != b"E":
            raise WorkerDied("worker sent a broken exit record")
        _, swept, removed, status, *usage = _EXIT.unpack(data)
        run.status = status
        run.cpu_s = usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6
        run.clean = bool(swept and removed)
        self._read_report(time.monotonic(), final=True)
        if self.in_w >= 0:
            os.close(self.in_w)
            self.in_w = -1

    def _call_deadline(self) -> float | None:
        limits = self.spec.call_limits
        if limits is None or self.loaded_at is None or self.next_call >= len(limits):
            return None
        return self.last_arrival + limits[self.next_call] + TIMING_SLACK_S + _KILL_GRACE_S

    def _flush_replies(self) -> None:
        while self.pending and self.in_w >= 0:
            try:
                written = os.write(self.in_w, self.pending)
            except BlockingIOError:
                return
            except OSError:  # the job closed its end or died
                self.pending.clear()
                return
            del self.pending[:written]
        if not self.pending and self.spec.service is None and self.in_w >= 0:
            os.close(self.in_w)  # the job has its payload and no host calls to answer
            self.in_w = -1

    def _read_report(self, now: float, final: bool = False) -> None:
        chunks = []
        while True:
            try:
                chunk = os.read(self.rep_r, 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                self.eof = True
                break
            chunks.append(chunk)
            self.bytes += len(chunk)
            if self.bytes > self.spec.result_bytes // _BYTE_COST:
                self._overflow("the job's report passed its size limit")
                return
        if not chunks:
            return
        data = self.partial + b"".join(chunks)
        lines = data.split(b"\n")
        self.partial = bytearray(lines.pop())
        run = self.run
        if len(run.lines) + len(lines) > self.spec.max_lines:
            self._overflow("the job sent more messages than its tests allow")
            return
        for line in lines:
            self._arrived(line, now)

    def _overflow(self, why: str) -> None:
        if self.run.overflow is None:
            self.run.overflow = why
        self.kill()
        # Drain and drop whatever else comes, so that writers never block on a full pipe.
        self.partial.clear()
        try:
            while os.read(self.rep_r, 1 << 20):
                pass
        except BlockingIOError:
            pass

    def _arrived(self, line: bytes, now: float) -> None:
        if self.run.overflow is not None:
            return
        match = _HEADER.match(line)
        if match is None:
            return  # not a message of the harness's format: as if never sent
        kind = match.group(1).decode()
        index = int(match.group(2)) if match.group(2) is not None else -1
        key = (kind, index)
        if kind == "call":
            self._host_call(line)
            return
        run = self.run
        run.lines.append(line)
        run.arrivals.append(now)
        if key in run.first_arrival:
            return
        run.first_arrival[key] = now
        if kind == "loaded":
            self.loaded_at = now
            self.last_arrival = max(self.last_arrival, now)
        elif kind == "test":
            while ("test", self.next_call) in run.first_arrival:
                self.last_arrival = max(self.last_arrival, run.first_arrival["test", self.next_call])
                self.next_call += 1

    def _host_call(self, line: bytes) -> None:
        spec, run = self.spec, self.run
        run.host_calls += 1
        reply: dict[str, Any]
        if spec.service is None:
            return
        if run.host_calls > spec.max_host_calls:
            reply = {"err": f"more than {spec.max_host_calls} host calls"}
        elif len(line) > spec.host_call_bytes:
            reply = {"err": f"a host call of more than {spec.host_call_bytes} bytes"}
        else:
            try:
                request = json.loads(line, object_hook=decode_hook)["req"]
            except (ValueError, TypeError, KeyError, RecursionError):
                reply = {"err": "a host call that is not plain data"}
            else:
                try:
                    reply = {"ok": encode_value(spec.service(request))}
                except Exception as exc:  # noqa: BLE001 - the service's failure is the job's host call's
                    reply = {"err": f"{type(exc).__name__}: {exc}"[:2000]}
        self.pending += json.dumps(reply, separators=(",", ":")).encode("utf-8", "surrogatepass") + b"\n"
        if len(self.pending) > max(spec.host_call_bytes, 1 << 16) * 64:
            self._overflow("the job does not read its host-call replies")
            return
        self._flush_replies()
