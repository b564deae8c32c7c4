"""How a worker process is started: inside bubblewrap namespaces where possible.

With bubblewrap each worker gets its own network namespace (no network at all), PID and IPC
namespaces, a read-only view of the operating system and the Python installation, a private
``/tmp``, and nothing else of the host's file system (home directories, the project, other
jobs' files). Running as root, every worker also gets a user id of its own for its jobs, which
makes the process limit meaningful and lets the worker kill every process a job left behind.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import secrets
import shutil
import site
import sys
import tempfile
from pathlib import Path

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
    argv: list[str]
    env: dict[str, str]
    namespaces: bool
    uid: int  # the user id jobs run as, or -1 to keep the worker's
    scratch: str  # where job directories go, as the worker sees it
    cleanup: str | None  # a host directory to remove when the worker ends


def per_job_user_available() -> bool:
    return os.geteuid() == 0


def new_uid() -> int:
    return _UID_BASE + secrets.randbelow(_UID_SPAN) if per_job_user_available() else -1


def bubblewrap_path() -> str | None:
    return shutil.which("bwrap")


def launch_with_namespaces(bwrap: str) -> WorkerLaunch:
    uid = new_uid()
    args = [
        bwrap,
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
    ]  # fmt: skip
    if os.geteuid() == 0:
        # Root in the worker only to create job directories, change to the job's user id and
        # clean up after it; every other capability is dropped.
        args += ["--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"):
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
    args += ["--", sys.executable, *_WORKER, str(uid), "/tmp"]
    return WorkerLaunch(args, dict(_ENV), True, uid, "/tmp", None)


def launch_without_namespaces() -> WorkerLaunch:
    scratch = tempfile.mkdtemp(prefix="execrl-sandbox-")
    os.chmod(scratch, 0o711)  # job users may enter their own directory, not list others
    uid = new_uid()
    argv = [sys.executable, *_WORKER, str(uid), scratch]
    return WorkerLaunch(argv, dict(_ENV), False, uid, scratch, scratch)


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
