"""Shared robot runs: each distinct run made once, in order, even beyond what is remembered."""

from __future__ import annotations

import pytest

from execrl.robot import batch
from execrl.robot.batch import RunSpec, forget_runs, run_all

STATE = {"locations": ["hall", "start_loc"], "objects": {}, "agents": {}, "robot_location": "start_loc"}


class Counting:
    def __init__(self, sandbox) -> None:
        self.sandbox, self.jobs = sandbox, 0

    def run(self, jobs):
        self.jobs += len(jobs)
        return self.sandbox.run(jobs)


def program(word: str) -> str:
    return f'def task_program():\n    go_to("hall")\n    say("{word}")\n'


@pytest.mark.timeout(120)
def test_duplicates_run_once_and_results_keep_their_order(sandbox, monkeypatch):
    forget_runs()
    monkeypatch.setattr(batch, "_MAX_REMEMBERED", 1)  # only the last run used stays remembered
    counting = Counting(sandbox)
    specs = [RunSpec(program(w), STATE) for w in ("a", "b", "a", "c", "b")]
    runs = run_all(specs, counting)  # type: ignore[arg-type]
    assert counting.jobs == 3
    assert [run.trace.steps[-1].text for run in runs] == ["a", "b", "a", "c", "b"]
    again = run_all([specs[4]], counting)  # type: ignore[arg-type]  # the last used, still remembered
    assert counting.jobs == 3 and again[0].trace == runs[1].trace
