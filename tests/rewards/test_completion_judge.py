"""The completion judge: the share of world states whose completion checks the program's trace meets,
findings on the responsible call's line, runs shared with the simulator judge; and the robot training
reward of configs/robot.yaml, under which doing nothing earns less than doing the errand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execrl.rewards import Candidate, RewardFormula, judge_kind, judge_kinds, parse_config
from execrl.rl.config import read_config_file
from execrl.robot.batch import forget_runs
from execrl.sandbox import Sandbox, default_sandbox, set_default_sandbox
from execrl.tasks.robot_gen import FAMILIES, RobotTask, WorldState, generate_robot_tasks
from execrl.tasks.task_file import read_tasks, write_tasks

ROBOT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "robot.yaml"
DO_NOTHING = (
    'def task_program():\n    say("done")\n',
    "def task_program():\n    go_to(get_all_rooms()[0])\n    pass\n",
)


@pytest.fixture(scope="module")
def tasks() -> list[RobotTask]:
    return generate_robot_tasks(48, seed=23)


@pytest.fixture(scope="module")
def judge():
    kind = judge_kind("completion")
    return kind.build(kind.settings(states=4))


def one(judge, response: str, task) -> tuple:
    candidate = Candidate.from_response(response, task=task)
    [result] = judge([candidate])
    return result, [(f.rule, candidate.response[f.start : f.end], f.message) for f in result.findings]


def task_of(tasks, family: str, variant: str) -> RobotTask:
    return next(t for t in tasks if t.family == family and t.variant == variant)


def test_registered_with_settings_and_localized_credit():
    assert "completion" in judge_kinds()
    kind = judge_kind("completion")
    assert kind.credit == "localized"
    with pytest.raises(ValueError):
        kind.settings(states=0)
    with pytest.raises(ValueError):
        kind.settings(semantics="textual")


def test_references_complete_and_doing_nothing_does_not(judge, tasks):
    simulator = judge_kind("simulator").build(judge_kind("simulator").settings(states=4))
    one_per_family = list({t.family: t for t in tasks}.values())
    assert len(one_per_family) == len(FAMILIES)
    references = [Candidate.from_response(t.canonical_solution, task=t) for t in one_per_family]
    assert [(r.score, r.findings) for r in judge(references)] == [(1.0, ())] * len(references)
    idle = [Candidate.from_response(p, task=t) for t in one_per_family for p in DO_NOTHING]
    assert [r.score for r in judge(idle)] == [0.0] * len(idle)
    assert [r.score for r in simulator(idle)] == [1.0] * len(idle)  # what the simulator judge alone rewards
    assert all(sum(f.severity for f in r.findings) == pytest.approx(4.0) for r in judge(idle))


def test_a_wrong_report_is_located_on_its_say(judge, tasks):
    task = task_of(tasks, "survey", "one_person")
    lines = task.canonical_solution.split("\n")
    options = lines[3].split("[")[1].rstrip("])").replace('"', "").split(", ")
    wrong = "\n".join([*lines[:5], f'    say("They chose {" and ".join(options)}")', ""])
    result, findings = one(judge, wrong, task)
    assert result.score == 0.0
    assert {(rule, span) for rule, span, _ in findings} == {
        ("CompletionError", f'say("They chose {" and ".join(options)}")')
    }


def test_going_where_the_errand_does_not_need_is_located_on_that_go_to(judge, tasks):
    task = task_of(tasks, "deliver", "to_place")
    rooms = task.states[0].state["locations"]
    stray = next(r for r in rooms if r != "start_loc" and f'"{r}"' not in task.canonical_solution)
    program = task.canonical_solution.replace(
        "    pick(",
        f'    go_to("{stray}")\n    go_to('
        + task.canonical_solution.split("go_to(")[1].split("\n")[0]
        + "\n    pick(",
    )
    result, findings = one(judge, program, task)
    assert result.score == 0.0
    assert [(rule, span) for rule, span, message in findings if "never go to" in message] == [
        ("CompletionError", f'go_to("{stray}")')
    ]


def test_a_crash_is_located_and_a_partial_errand_gets_partial_credit(judge, tasks):
    task = task_of(generate_robot_tasks(24, seed=23, families=["conditional"]), "conditional", "if_object")
    # Looks, then always reports the object missing: right where it is missing (half of the 4 states).
    always_missing = task.canonical_solution.replace("    if is_in_room(", "    if 0 * is_in_room(")
    result, _ = one(judge, always_missing, task)
    assert result.score == 0.5
    obj = task.canonical_solution.split("pick(")[1].split(")")[0]
    room = task.canonical_solution.split("go_to(")[1].split(")")[0]
    blind = f"def task_program():\n    go_to({room})\n    pick({obj})\n"
    result, findings = one(judge, blind, task)
    assert result.score == 0.0
    rules = {(rule, span) for rule, span, _ in findings}
    assert ("RobotExecutionError", f"pick({obj})") in rules  # where the object is not: the pick fails


def test_states_without_checks_fail_with_a_finding(judge, tasks):
    task = tasks[0]
    old = RobotTask(
        task.task_id,
        task.prompt,
        task.entry_point,
        task.canonical_solution,
        states=tuple(WorldState(w.state, w.timeout_expected) for w in task.states),
    )
    result, findings = one(judge, task.canonical_solution, old)
    assert result.score == 0.0 and {rule for rule, _, _ in findings} == {"no-completion-checks"}
    result, findings = one(judge, task.canonical_solution, None)
    assert result.score == 0.0 and [rule for rule, _, _ in findings] == ["no-world-state"]


def test_checks_travel_in_task_files(judge, tasks, tmp_path):
    path = tmp_path / "robot.jsonl"
    write_tasks(path, tasks[:8])
    back = read_tasks(path)
    assert [w.checks for t in back for w in t.states] == [w.checks for t in tasks[:8] for w in t.states]
    for before, after in zip(tasks[:8], back, strict=True):
        for program in (before.canonical_solution, DO_NOTHING[0]):
            assert one(judge, program, before)[0] == one(judge, program, after)[0]


class CountingSandbox(Sandbox):
    jobs = 0

    def run(self, jobs, *args, **kwargs):
        CountingSandbox.jobs += len(jobs)
        return super().run(jobs, *args, **kwargs)


def test_the_two_judges_of_a_formula_run_each_program_once(tasks):
    formula = RewardFormula(
        parse_config(
            {"judges": {"simulator": {"settings": {"states": 3}}, "completion": {"settings": {"states": 3}}}}
        )
    )
    batch = [formula.candidate(t.canonical_solution + "\n# a fresh program\n", task=t) for t in tasks[:6]]
    forget_runs()
    previous = default_sandbox()
    with CountingSandbox(workers=2) as counting:
        set_default_sandbox(counting)
        try:
            scores = formula.score_batch(batch)
        finally:
            set_default_sandbox(previous)
    distinct = {(c.code, json.dumps(w.state, sort_keys=True)) for c in batch for w in c.task.states[:3]}
    assert CountingSandbox.jobs == len(distinct) >= 6 * 3 - 2  # identical states of one task run once too
    assert all(b.component("completion").raw == 1.0 for b in scores.breakdowns)


def test_upstream_semantics_in_training_is_a_setting_with_a_warning(tasks, caplog):
    task = task_of(tasks, "deliver", "to_place")
    program = task.canonical_solution.replace(
        "def task_program():\n", 'def task_program():\n    x = "a".replace("a", "b")\n'
    )
    results = {}
    for semantics in ("injected", "upstream"):
        kind = judge_kind("completion")
        [results[semantics]] = kind.build(kind.settings(states=2, semantics=semantics))(
            [Candidate.from_response(program, task=task)]
        )
    assert results["injected"].score == 1.0 and results["upstream"].score == 0.0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "semantics: upstream" in warnings[0] and "not to train" in warnings[0]


def test_robot_config_rewards_the_errand_above_doing_nothing_on_every_family():
    reward = read_config_file(ROBOT_CONFIG)["reward"]
    formula = RewardFormula(parse_config(reward, "configs/robot.yaml: reward"))
    weights = {name: judge.weight for name, judge in formula.config.judges.items()}
    assert weights["simulator"] > 0 and weights["completion"] > 0  # both executability and completion
    tasks = generate_robot_tasks(5 * len(FAMILIES), seed=31)
    for family in FAMILIES:
        for task in [t for t in tasks if t.family == family][:2]:
            batch = [formula.candidate(p, task=task) for p in (task.canonical_solution, *DO_NOTHING)]
            reference, *idle = (b.total for b in formula.score_batch(batch).breakdowns)
            assert all(total < reference for total in idle), (family, task.task_id, reference, idle)
