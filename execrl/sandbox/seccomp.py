"""The seccomp filter every job runs under: a BPF program built with libseccomp, the library that
container runtimes use for this.

libseccomp is reached through ctypes: it is part of every mainstream Linux distribution (systemd
depends on it), while its official Python bindings are not on PyPI. The program is built once, in
the parent, and exported as raw BPF: bubblewrap loads it (``--seccomp FD``) for the whole worker tree,
and without bubblewrap the job's process loads it itself before running any of the job's code.

What it denies is what no benchmark program needs and what opens a channel out of the job or into
the kernel's less-trodden paths: System V and POSIX IPC, kernel keyrings, namespaces (except the
new IPC namespace the worker gives each job), ptrace and cross-process memory access, mounts,
BPF, perf events, userfaultfd, io_uring, module and kexec loading, and sockets other than Unix,
IPv4, IPv6 and netlink (a VM's vsock reaches the host whatever the network namespace). Denied calls
fail with EPERM (sockets: EAFNOSUPPORT), so a program gets an ordinary ``OSError``; a system call
of another architecture (32-bit ``int 0x80`` on x86-64) kills the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

DENIED = (
    # kernel keyrings: per-user state that outlives the job
    "keyctl", "add_key", "request_key",
    # System V and POSIX IPC: objects that outlive the process that made them
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semctl", "semtimedop",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    # other processes' memory, other namespaces
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "setns",
    # the file-system tree
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
    # kernel attack surface no program here needs
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "lookup_dcookie", "uselib",
    "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "iopl", "ioperm", "vhangup", "fanotify_init", "personality", "modify_ldt",
)  # fmt: skip
CLONE_NEWIPC = 0x08000000
# clone(2) flags that make a namespace; unshare(2) may only ask for CLONE_NEWIPC (the worker's use).
_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, CLONE_NEWIPC, 0x10000000, 0x20000000, 0x40000000)
_ALLOWED_FAMILIES = (1, 2, 10, 16)  # AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
_LAST_FAMILY = 63  # above AF_MAX (46 in Linux 6.x); anything higher is denied by one rule

_ACT_ALLOW = 0x7FFF0000
_ACT_KILL_PROCESS = 0x80000000
_ATTR_ACT_BADARCH = 2
_ATTR_CTL_OPTIMIZE = 8  # libseccomp >= 2.5: 2 = a binary tree of system call numbers, not a list
_CMP_NE, _CMP_LT, _CMP_GT, _CMP_EQ, _CMP_MASKED_EQ = 1, 2, 6, 4, 7


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp")
    for candidate in filter(None, (name, "libseccomp.so.2")):
        try:
            lib = ctypes.CDLL(candidate, use_errno=True)
        except OSError:
            continue
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = (ctypes.c_uint32,)
        lib.seccomp_release.argtypes = (ctypes.c_void_p,)
        lib.seccomp_attr_set.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32)
        lib.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
        lib.seccomp_rule_add_array.argtypes = (
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        )
        lib.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
        lib.seccomp_export_pfc.argtypes = (ctypes.c_void_p, ctypes.c_int)
        return lib
    return None


class SeccompUnavailable(Exception):
    """libseccomp cannot be loaded here, or refused the filter."""


def _rule(lib: ctypes.CDLL, ctx: int, action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:
        return  # not a system call on this architecture (e.g. iopl on arm64)
    array = (_ArgCmp * max(1, len(cmps)))(*(_ArgCmp(*c) for c in cmps))
    code = lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)
    if code != 0:
        raise SeccompUnavailable(f"libseccomp refused the rule for {name}: {os.strerror(-code)}")


def _build(export: str) -> bytes:
    lib = _library()
    if lib is None:
        raise SeccompUnavailable("libseccomp (libseccomp.so.2) is not installed")
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise SeccompUnavailable("seccomp_init failed")
    try:
        lib.seccomp_attr_set(ctx, _ATTR_ACT_BADARCH, _ACT_KILL_PROCESS)
        lib.seccomp_attr_set(ctx, _ATTR_CTL_OPTIMIZE, 2)  # refused by older versions: a list then
        eperm = _errno_action(errno.EPERM)
        for name in DENIED:
            _rule(lib, ctx, eperm, name)
        _rule(lib, ctx, eperm, "unshare", (0, _CMP_NE, CLONE_NEWIPC, 0))
        for flag in _NAMESPACE_FLAGS:
            _rule(lib, ctx, eperm, "clone", (0, _CMP_MASKED_EQ, flag, flag))
        # glibc falls back from clone3 to clone on ENOSYS, where the flags above can be checked.
        _rule(lib, ctx, _errno_action(errno.ENOSYS), "clone3")
        # libseccomp takes one comparison per argument and rule: each other family gets its own rule.
        no_family = _errno_action(errno.EAFNOSUPPORT)
        for family in range(_LAST_FAMILY + 1):
            if family not in _ALLOWED_FAMILIES:
                _rule(lib, ctx, no_family, "socket", (0, _CMP_EQ, family, 0))
        _rule(lib, ctx, no_family, "socket", (0, _CMP_GT, _LAST_FAMILY, 0))
        read_end, write_end = os.pipe()
        try:
            exporter = lib.seccomp_export_bpf if export == "bpf" else lib.seccomp_export_pfc
            code = exporter(ctx, write_end)
            os.close(write_end)
            write_end = -1
            if code != 0:
                raise SeccompUnavailable(f"libseccomp could not export the filter: {os.strerror(-code)}")
            chunks = []
            while chunk := os.read(read_end, 1 << 16):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
    finally:
        lib.seccomp_release(ctx)


@functools.lru_cache(maxsize=1)
def seccomp_program() -> bytes | None:
    """The filter as raw BPF (``struct sock_filter`` entries), or None when libseccomp is missing."""
    try:
        return _build("bpf")
    except SeccompUnavailable:
        return None


def describe_filter() -> str:
    """The filter in libseccomp's readable pseudo-code (for docs and debugging)."""
    return _build("pfc").decode()
