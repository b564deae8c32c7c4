from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import pytest

from execrl.robot.runner import RobotRun, run_in_process
from execrl.tasks.robot_gen import FAMILIES, RobotTask, generate_robot_tasks
from execrl.tasks.robot_gen.phrasing import expand, human_list, phrase
from execrl.tasks.robot_gen.world import START, World, clashes
from execrl.tasks.task_file import read_tasks, write_tasks


@pytest.fixture(scope="module")
def tasks() -> list[RobotTask]:
    return generate_robot_tasks(400, seed=5)


def _run(program: str, state: dict[str, Any]) -> RobotRun:
    """Our own reference program against the simulator, in this process (a fresh namespace per run)."""
    return run_in_process(program, state)


def test_deterministic_per_seed() -> None:
    a, b = generate_robot_tasks(30, seed=1), generate_robot_tasks(30, seed=1)
    assert [(t.task_id, t.prompt, t.canonical_solution, t.states) for t in a] == [
        (t.task_id, t.prompt, t.canonical_solution, t.states) for t in b
    ]
    assert [t.prompt for t in a] != [t.prompt for t in generate_robot_tasks(30, seed=2)]


def test_at_least_eight_families_evenly_covered_with_distinct_prompts(tasks) -> None:
    assert len(FAMILIES) >= 8
    counts = Counter(t.family for t in tasks)
    assert set(counts) == set(FAMILIES)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert len({t.prompt for t in tasks}) == len(tasks)
    assert len({(t.family, t.variant) for t in tasks}) >= 16


def test_each_family_has_many_phrasings_and_vocabularies(tasks) -> None:
    openings = defaultdict(set)
    for task in tasks:
        openings[task.family].add(" ".join(task.prompt.split()[:2]))
    assert all(len(starts) >= 4 for starts in openings.values()), openings
    rooms = {room for t in tasks for w in t.states for room in w.state["locations"]}
    assert len(rooms) >= 150
    assert any(re.fullmatch(r"[a-z ]+ [1-9]", room) for room in rooms)  # numbered rooms
    assert any(re.fullmatch(r"[a-z]+'s [a-z]+", room) for room in rooms)  # possessive rooms
    assert (
        len(
            {
                label
                for t in tasks
                for w in t.states
                for labels in w.state["objects"].values()
                for label in labels
            }
        )
        >= 30
    )


def test_world_states_follow_the_simulator_schema(tasks) -> None:
    for task in tasks:
        assert task.entry_point == "task_program" and task.canonical_solution.startswith(
            "def task_program():"
        )
        assert len(task.states) == 4
        for world in task.states:
            state = world.state
            assert set(state) == {"locations", "objects", "agents", "robot_location"}
            assert state["robot_location"] == START and state["locations"][-1] == START
            rooms = state["locations"]
            assert len(set(rooms)) == len(rooms)
            assert not any(clashes(room, rooms) for room in rooms)
            assert set(state["objects"]) <= set(rooms) and set(state["agents"]) <= set(rooms)
            for people in state["agents"].values():
                assert all(p["name_regex"] == ".*" and p["answers"] for p in people)


def test_reference_programs_run_cleanly_on_every_state(tasks) -> None:
    problems = []
    for task in tasks:
        for world in task.states:
            run = _run(task.canonical_solution, world.state)
            ok = run.status == "success" or (run.status == "timeout" and world.timeout_expected)
            if not ok or not run.trace:
                problems.append((task.task_id, run.status, run.error_message))
    assert not problems


def test_states_vary_what_the_instruction_leaves_open(tasks) -> None:
    loops = [t for t in tasks if t.family in ("check_rooms", "loop_rooms") or t.variant == "poll_rooms"]
    assert sum(len({tuple(w.state["locations"]) for w in t.states}) > 1 for t in loops) > len(loops) // 2
    branches = [t for t in tasks if t.family == "conditional"]
    assert all(len({repr(w.state) for w in t.states}) > 1 for t in branches)
    waits = [t for t in tasks if t.family == "wait"]
    assert all(sum(w.timeout_expected for w in t.states) == 1 for t in waits)


def test_a_hard_coded_answer_fails_somewhere() -> None:
    task = next(t for t in generate_robot_tasks(40, seed=9) if t.family == "check_rooms")
    rooms = [r for r in task.states[0].state["locations"] if r != START]
    hard_coded = "def task_program():\n" + "".join(f"    go_to({r!r})\n" for r in rooms)
    statuses = [_run(hard_coded, w.state).status for w in task.states]
    assert statuses[0] == "success" and "exception" in statuses


def test_phrasing_helpers() -> None:
    import random

    rng = random.Random(0)
    assert {expand("[a|b] c", rng) for _ in range(40)} == {"a c", "b c"}
    assert phrase(["take a {x}. then go"], rng, x="umbrella") == "Take an umbrella. Then go"
    assert human_list(["a", "b", "c"]) == "a, b, or c" and human_list(["a", "b"], "and") == "a and b"


def test_world_rejects_clashing_names() -> None:
    with pytest.raises(ValueError, match="clashes"):
        World(["office", "lena's office"])
    world = World(["kitchen"])
    world.add_object("notebook", "kitchen")
    world.add_object("notebook", "kitchen")  # copies of one object are fine
    with pytest.raises(ValueError, match="clashes"):
        world.add_object("book", "kitchen")
    with pytest.raises(ValueError, match="not a room"):
        world.add_person("garage")


def test_task_file_round_trip(tmp_path, tasks) -> None:
    path = tmp_path / "robot.jsonl"
    write_tasks(path, tasks[:10])
    back = read_tasks(path)
    assert all(isinstance(t, RobotTask) for t in back)
    assert [(t.task_id, t.family, t.states) for t in back] == [
        (t.task_id, t.family, t.states) for t in tasks[:10]
    ]
