"""How a worker process is started: inside bubblewrap namespaces where possible.

With bubblewrap each worker gets its own network namespace (no network at all), PID and IPC
namespaces, a read-only view of the operating system and the Python installation, a private
``/tmp``, nothing else of the host's file system (home directories, the project, other jobs'
files), and the seccomp filter of :mod:`execrl.sandbox.seccomp`. Running as root, every job also
gets a user id and an IPC namespace of its own, which makes the process limit meaningful, lets the
worker kill every process a job left behind, and leaves no IPC object for a later job. Without
bubblewrap the job loads the same seccomp filter itself.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import os
import secrets
import shutil
import site
import sys
import tempfile
from pathlib import Path

from execrl.sandbox.seccomp import seccomp_program

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")

# Top-level directories a program may see (read-only): the operating system, not the host's data.
_SYSTEM_DIRS = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "sys", "proc", "dev"}
_SCRATCH_BYTES = 512 << 20
# Outside the range of real accounts and of the user namespaces' usual sub-uid ranges.
_UID_BASE, _UID_SPAN = 1 << 30, 1 << 29
# Not -I: isolated mode also ignores PYTHONHASHSEED, so each worker had its own string hashes and
# set iteration order (a program returning tuple(set(...)) gave different answers in different
# workers). The worker's environment is entirely ours, so -E would add nothing; -s keeps the user's
# site-packages off sys.path. The script's own directory must stay off it too (execrl/sandbox has a
# types.py that would shadow the standard library's), and -P only exists from Python 3.11: so the
# worker is started through -c, whose sys.path entry (the working directory) goes before any import.
_BOOT = (
    "import sys; del sys.path[0]; sys.argv[:] = sys.argv[1:]; "
    "import runpy; runpy.run_path(sys.argv[0], run_name='__main__')"
)
_WORKER = ["-s", "-c", _BOOT, str(WORKER_SCRIPT)]
_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",  # set iteration order, and so outputs, are reproducible
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class Isolation(str, enum.Enum):
    AUTO = "auto"  # namespaces if bubblewrap works here, else rlimits with one warning
    NAMESPACES = "namespaces"  # bubblewrap or an error
    RLIMITS = "rlimits"  # processes and resource limits only, no namespaces (no warning)


@dataclasses.dataclass(frozen=True)
class WorkerLaunch:
    """How to start one worker: the command before the worker's own, and what it is told."""

    prefix: list[str]  # bubblewrap and its arguments, or nothing
    env: dict[str, str]
    namespaces: bool
    uid_base: int  # jobs run as uid_base + (job number mod UID_BLOCK), or keep the worker's (-1)
    scratch: str  # where job directories go, as the worker sees it
    cleanup: str | None  # a host directory to remove when the worker ends
    config: dict  # for the worker: scratch, per-job IPC namespace, seccomp in the job, unreachable paths
    seccomp: bytes | None  # a BPF program for bubblewrap's --seccomp (namespaces only)

    def argv(self, control_fd: int, seccomp_fd: int | None, output_fds: tuple[int, int]) -> list[str]:
        config = {**self.config, "control_fd": control_fd, "output_fds": list(output_fds)}
        prefix = list(self.prefix)
        if seccomp_fd is not None:
            prefix[1:1] = ["--seccomp", str(seccomp_fd)]
        return [*prefix, sys.executable, *_WORKER, json.dumps(config)]


UID_BLOCK = 1 << 16  # user ids per worker: a job's user id is not reused within 65536 jobs


def per_job_user_available() -> bool:
    return os.geteuid() == 0


def new_uid_base() -> int:
    if not per_job_user_available():
        return -1
    return _UID_BASE + secrets.randbelow(_UID_SPAN // UID_BLOCK) * UID_BLOCK


def bubblewrap_path() -> str | None:
    return shutil.which("bwrap")


def launch_with_namespaces(bwrap: str) -> WorkerLaunch:
    args = [
        bwrap,
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
    ]  # fmt: skip
    root = os.geteuid() == 0
    if root:
        # Root in the worker only to create job directories, change to the job's user id, give each
        # job an IPC namespace and clean up after it; every other capability is dropped.
        args += ["--cap-drop", "ALL"]
        for cap in (
            "CAP_SETUID",
            "CAP_SETGID",
            "CAP_KILL",
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_FOWNER",
            "CAP_SYS_ADMIN",
        ):
            args += ["--cap-add", cap]
    for entry in sorted(Path("/").iterdir()):
        if entry.name in _SYSTEM_DIRS or entry.is_symlink():
            continue
        if entry.is_dir():
            args += ["--tmpfs", str(entry)]
        elif entry.is_file():
            args += ["--ro-bind", "/dev/null", str(entry)]
    args += ["--perms", "0711", "--size", str(_SCRATCH_BYTES), "--tmpfs", "/tmp"]
    made: set[Path] = set()
    for path in _python_paths():
        if path.parts[1] in _SYSTEM_DIRS:
            continue
        # bwrap would create the missing parents as 0700, unreadable to the job's user.
        for parent in reversed(path.parents[:-2]):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(path), str(path)]
    args += ["--"]
    program = seccomp_program()
    config = {
        "scratch": "/tmp",
        "ipc_namespace": root and program is None,
        "seccomp_hex": None,
        "unreachable_paths": [],
    }
    return WorkerLaunch(args, dict(_ENV), True, new_uid_base(), "/tmp", None, config, program)


def launch_without_namespaces() -> WorkerLaunch:
    scratch = tempfile.mkdtemp(prefix="execrl-sandbox-")
    os.chmod(scratch, 0o711)  # job users may enter their own directory, not list others
    root = per_job_user_available()
    program = seccomp_program()
    config = {
        "scratch": scratch,
        "ipc_namespace": root and program is None,
        "seccomp_hex": program.hex() if program else None,
        "unreachable_paths": [
            str(p) for p in _python_paths() if root and p.is_dir() and not _reachable_by_others(p)
        ],
    }
    return WorkerLaunch([], dict(_ENV), False, new_uid_base(), scratch, scratch, config, None)


def _reachable_by_others(path: Path) -> bool:
    """Whether a user with no special rights can traverse every directory down to ``path``."""
    for directory in [*reversed(path.parents), path]:
        try:
            mode = directory.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
    return True


def _python_paths() -> list[Path]:
    """The directories the worker's Python needs: its prefixes, site-packages, the worker script.

    Not the rest of ``sys.path``: it may hold the project itself (pytest puts the rootdir there).
    """
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(WORKER_SCRIPT)}
    candidates.update(site.getsitepackages())
    resolved: set[Path] = set()
    for raw in candidates:
        for path in (Path(raw), Path(raw).resolve()):
            if path.exists() and path.is_absolute() and len(path.parts) > 1:
                resolved.add(path)
    # Bind the outermost paths only: a bind inside another bind is redundant.
    ordered = sorted(resolved, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept
