"""Host and pool state checks shared by the hostile tests: after every hostile job, nothing of it may
be left on the host (processes, IPC objects, keys, files in the host's /tmp) and the pool must still
run a correct program correctly."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from execrl.sandbox import AssertTests, Job, Sandbox, Status


def alive_as(uids) -> list[int]:
    """Processes on the host running as one of ``uids``."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if int(status.split("Uid:")[1].split()[0]) in uids:
                alive.append(int(entry))
    return alive


def sysv_objects() -> set[str]:
    """The host's System V IPC objects (keys and ids), as /proc/sysvipc lists them."""
    found = set()
    for kind in ("shm", "msg", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        found.update(f"{kind}:{' '.join(line.split()[:2])}" for line in lines)
    return found


def key_users() -> set[int]:
    return {int(line.split(":")[0]) for line in Path("/proc/key-users").read_text().splitlines()}


def host_tmp() -> set[str]:
    return set(os.listdir("/tmp"))


class HostState:
    """What the host looked like before a test; ``check`` asserts that the test left nothing behind."""

    def __init__(self) -> None:
        self.ipc = sysv_objects()
        self.keys = key_users()
        self.tmp = {name for name in host_tmp() if not name.startswith(("pytest", "tmp"))}

    def check(self, sandbox: Sandbox) -> None:
        result = sandbox.run([Job("def f(x):\n    return x * 2\n", AssertTests(("assert f(21) == 42",)))])[0]
        assert result.status is Status.PASSED, result
        if os.geteuid() == 0:
            deadline = time.monotonic() + 2
            while alive_as(sandbox.job_uids) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sandbox.job_uids and alive_as(sandbox.job_uids) == []
            assert not [uid for uid in key_users() - self.keys if uid in sandbox.job_uids]
        assert sysv_objects() <= self.ipc
        # Other processes share the host's /tmp: only files a job could have made count.
        left = [name for name in host_tmp() - self.tmp if name.startswith("execrl-escape") or _owner(f"/tmp/{name}") in sandbox.job_uids]
        assert not left, left


def _owner(path: str) -> int | None:
    try:
        return os.lstat(path).st_uid
    except OSError:
        return None


@pytest.fixture(autouse=True)
def unharmed(sandbox):
    """Imported by the hostile test modules: after each test, the host and ``sandbox`` are as before."""
    before = HostState()
    yield
    before.check(sandbox)
