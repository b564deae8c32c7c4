"""Reading RoboEval's data out of a CodeBotler-style task file without running it.

The task file here is made up in upstream's layout (CodeBotler's own files are not in the repository);
``execrl data fetch`` checks the real ones by sha256 and the files built from them against the shared copy.
"""

from __future__ import annotations

import json

import pytest

from execrl.errors import ExecrlError
from execrl.tasks.roboeval_source import TaskSource, build_files, contain_words, extract_task

TASK = b'''import sys
from benchmark.simulator import State
from misc.benchmark_utils import *

name = "FetchMug"

prompts = [
    "Find a mug in the kitchen and bring it to Ann.",
    "Bring Ann a mug from the kitchen.",
]

state0 = State().addLocation("kitchen").addLocation("ann's office").addLocation("start_loc") \\
        .addObject("mug", "kitchen").addObject("plate", "kitchen") \\
        .addAgent(".*", "ann's office", [contain_words(["thank", "you"])]) \\
        .addRobotLocation("start_loc")

state1 = State().addLocation("ann's office").addLocation("kitchen").addLocation("start_loc") \\
        .addAgent("ann", "ann's office", ["yes", "no"]).addRobotLocation("start_loc")

def test0(trace, VERBOSE=False):
    """first version"""
    raise RuntimeError("never run")

def test0(trace, VERBOSE=False):
    """
    mug in the kitchen.
    Bring it to Ann.
    """
    raise RuntimeError("never run")

def test1(trace, VERBOSE=False):
    raise RuntimeError("never run")

tests = [
    {"state": state0, "test": test0, "timeout": False},
    {"state": state1, "test": test1, "timeout": True},
]

raise RuntimeError("module code is never executed")
'''


def test_a_task_file_is_read_without_running_it() -> None:
    record = extract_task(TaskSource("FetchMug", TASK))
    assert record["name"] == "FetchMug"
    assert record["source_file"] == "benchmark/tasks/FetchMug.py"
    assert record["prompts"] == ["Find a mug in the kitchen and bring it to Ann.", "Bring Ann a mug from the kitchen."]
    first, second = record["tests"]
    assert first["initial_state"] == {
        "locations": ["kitchen", "ann's office", "start_loc"],  # insertion order: get_all_rooms() returns it
        "objects": {"kitchen": ["mug", "plate"]},
        "agents": {"ann's office": [{"name_regex": ".*", "answers": ["^(?=.*thank)(?=.*you).*$"]}]},
        "robot_location": "start_loc",
    }
    assert [call["op"] for call in first["state_construction"]][:4] == ["addLocation"] * 3 + ["addObject"]
    assert first["check_function"] == "test0" and first["timeout_expected"] is False
    assert first["check_docstring"] == "mug in the kitchen.\nBring it to Ann."  # the last definition wins
    assert second["initial_state"]["agents"] == {"ann's office": [{"name_regex": "ann", "answers": ["yes", "no"]}]}
    assert second["timeout_expected"] is True and second["check_docstring"] is None
    assert record["extraction_notes"] == [
        "function(s) defined twice in source, last definition wins: ['test0']",
        'answer regex built with contain_words(["thank", "you"]) -> ^(?=.*thank)(?=.*you).*$',
    ]


def test_the_blob_id_is_gits() -> None:
    # `printf 'hello\n' | git hash-object --stdin`
    assert TaskSource("x", b"hello\n").blob_sha1 == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_contain_words_matches_every_word_in_any_order() -> None:
    import re

    pattern = contain_words(["6", "pm"])
    assert re.search(pattern, "at 6 pm") and re.search(pattern, "pm, 6") and not re.search(pattern, "at 5 pm")


def test_the_two_loader_files_are_built_from_the_tasks() -> None:
    files = build_files([TaskSource("FetchMug", TASK)])
    tasks = json.loads(files["roboeval/roboeval_tasks.json"])
    assert tasks["meta"]["counts"] == {"tasks": 1, "prompts_total": 2, "test_states_total": 2}
    prompts = [json.loads(line) for line in files["roboeval/roboeval_prompts.jsonl"].decode().splitlines()]
    assert prompts[1] == {"task": "FetchMug", "prompt_index": 1, "id": "FetchMug_1",
                          "prompt": "Bring Ann a mug from the kitchen.", "num_test_states": 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (b'name = "FetchMug"', b"name = NAME"),
        (b'.addRobotLocation("start_loc")\n\ndef', b'.teleport("start_loc")\n\ndef'),
        (b'"test": test1', b'"test": test9'),
        (b'.addObject("mug", "kitchen")', b'.addObject(MUG, "kitchen")'),
    ],
)
def test_an_unexpected_layout_is_a_clear_error(change: bytes, message: bytes) -> None:
    with pytest.raises(ExecrlError, match="benchmark/tasks/FetchMug.py"):
        extract_task(TaskSource("FetchMug", TASK.replace(change, message, 1)))
