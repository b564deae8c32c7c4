"""Runs untrusted, model-written programs in isolated processes and returns structured results.

No torch and no rewards here: everything that judges code builds on this.
"""

from execrl.sandbox.backend import SandboxBackend
from execrl.sandbox.isolation import Isolation
from execrl.sandbox.pool import Sandbox, SandboxUnavailable, default_sandbox, set_default_sandbox
from execrl.sandbox.types import AssertTests, CallTests, Job, JobResult, Limits, Status, TestOutcome

__all__ = [
    "AssertTests",
    "CallTests",
    "Isolation",
    "Job",
    "JobResult",
    "Limits",
    "Sandbox",
    "SandboxBackend",
    "SandboxUnavailable",
    "Status",
    "TestOutcome",
    "default_sandbox",
    "set_default_sandbox",
]
