"""RoboEval's data from CodeBotler's task files, read by a static parse (no upstream code is run).

Upstream keeps each task as a Python file (``benchmark/tasks/<Task>.py``): ``name``, ``prompts``, world
states built by ``State().addLocation(...).addAgent(...)`` chains, check functions and a ``tests`` list
pairing each state with its check. This module turns those files into the two files execrl's loaders
read, ``roboeval/roboeval_tasks.json`` and ``roboeval/roboeval_prompts.jsonl``, with the same bytes as the
copies described in shared/data/README.md. The check functions are not copied: execrl re-expresses them
(execrl.robot.task_checks); only their names and docstrings are kept.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from execrl.errors import ExecrlError

REPOSITORY = "ut-amrl/codebotler"
COMMIT = "2b3e2d84e3ea0285cca1f1dcd4f313522d168a3a"

# The 16 tasks of the main benchmark, in the order of roboeval_tasks.json (alphabetical, as upstream lists
# the folder), with the sha256 of each file at COMMIT.
TASK_FILES: dict[str, str] = {
    "CountSavory": "523664007b237d20039b93b7f22c32fe0cde3135938e61d2bfdfe464819d9179",
    "ElevatorTour": "c3d97a1ecd8b107ef9992dce5de7e7d2ed35077dc260bf070b6a8b676a348aec",
    "FindBackpack": "9209d70f5ff5060804544323fb158c922625fae4efc385dc9b8c32a426a8c70f",
    "GetDrink": "35a6affe370144571afeb6adee811860f2e050cf1cec0357d55c18cb134d1c16",
    "GrilledCheese": "25a7b38d0cf1216e4d70f9525da36d981895584478f721afaf41414a957eee82",
    "HalloweenList": "67c82a9136ea1a45dcdf8b1b2daa602b89dcffb8ae350bffb3addbe5c1e68543",
    "HalloweenShopping": "b9e41265fca71acc93a98434a7eb8c81f8aae76e545db44ce453a2d18510d4f3",
    "LunchBreak": "50a9fa0c26ae7f1660ae2925e7b2bf4a5132b1e718b7f628d5026bb1c96889b8",
    "LunchTime": "1a3ba8e903a5acf34c875f223c78e5ac58d507274d4eeaef9c8411587bfc0eb2",
    "MailDelivery": "e3d30267a4706572304ffe30ada7b2505cf39a91d1be4dad0e75a613bd2e84b7",
    "MovieMessenger": "abdb8f1b473108a567de7758e6c06b07bbcafdb81c32e73396620d4d1e56b6b8",
    "SayGoodDay": "4ac5815b0047e11f27afd6795dc9144b48a4c1799dd90ce900885ab0568a052d",
    "SetTemperature": "af8b2db2252d9b5bfda976fb448981cce75b8686a92c8f20508541c89c1f7e04",
    "StaplerDelivery": "ef464d5fd251549d7e5d1500c4998fd3a8a61c2ce3a3d2913a597c6edd56c7e2",
    "StaplerSupply": "c32c089ba6dc2aa5a416036a6f8bd56456f0ada158040490614acdc936c4946f",
    "WeatherPoll": "bb02102a93554d5b04cd789831df2687fcfadc68691de2b8b59fb4e3ce150a92",
}

# The file's description of itself, as in the copy of shared/data (so that both have the same sha256).
META: dict[str, Any] = {
    "dataset": "RoboEval (CodeBotler benchmark), data portion only: task names, 5 prompt paraphrases per task, initial world states, and per-state test metadata. The temporal checks themselves are Python functions in the source files and are NOT included (see check_function names; semantics described in shared/specs/roboeval.md).",
    "source_repository": "github.com/ut-amrl/codebotler",
    "source_commit": "2b3e2d84e3ea0285cca1f1dcd4f313522d168a3a",
    "source_commit_date": "2024-05-31 (last change to benchmark/tasks: 3c6c61e 'fix')",
    "license": "BSD 3-Clause License with Machine Learning Restriction (repo LICENSE). Clause 4: 'The contents of this repository may not be used as training data for any machine learning model, including but not limited to neural networks.' => evaluation use only; do not train/fine-tune on these prompts/states.",
    "extraction": "static parse with Python ast of the task files (no repo code executed); State().addLocation/addObject/addAgent/addRobotLocation chains replayed into plain JSON.",
    "state_schema": {
        "locations": "list[str] — exact room names, in insertion order (this is what get_all_rooms() returns; order matters for programs that iterate rooms)",
        "objects": "dict[location -> list[str]] — object labels present in that room; labels are matched as case-insensitive regex search(label_regex_in_state, queried_string)",
        "agents": "dict[location -> list[{name_regex, answers}]] — people in that room; name_regex is matched against the person argument of ask(); answers is a queue of answer regexes consumed one per ask() (last one repeats forever; empty list = person present but cannot answer)",
        "robot_location": "str — starting room (always 'start_loc' in the benchmark)"
    },
    "test_schema": {
        "test_index": "index into the task's tests list (evaluation runs the program once per initial state)",
        "state_var": "variable name in source",
        "initial_state": "world state (schema above)",
        "state_construction": "ordered builder calls as in source",
        "check_function": "name of the Python temporal-check function applied to the execution trace for this state",
        "check_docstring": "docstring of that function if any",
        "timeout_expected": "if true, the program is EXPECTED not to terminate within the 1 s simulation timeout (e.g. waiting forever for a person); a timeout is then not an error and the truncated trace is checked"
    }
}


@dataclass(frozen=True)
class TaskSource:
    """One upstream task file: its name and its bytes."""

    name: str
    text: bytes

    @property
    def path(self) -> str:
        return f"benchmark/tasks/{self.name}.py"

    @property
    def blob_sha1(self) -> str:
        """The file's git blob id: what upstream's tree at COMMIT records for it."""
        return hashlib.sha1(b"blob %d\0" % len(self.text) + self.text, usedforsecurity=False).hexdigest()


def contain_words(words: list[str]) -> str:
    """The regex CodeBotler's ``contain_words`` helper builds: every word somewhere, in any order."""
    return "^" + "".join(f"(?=.*{word})" for word in words) + ".*$"


class _Extractor:
    """Reads one task file's module-level data; records what needed interpretation in ``notes``."""

    def __init__(self, source: TaskSource) -> None:
        self.source = source
        try:
            self.module = ast.parse(source.text.decode("utf-8"), filename=source.path)
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise ExecrlError(f"{REPOSITORY} {source.path} is not a readable Python file: {exc}") from None
        self.notes: list[str] = []
        self.assignments: dict[str, ast.expr] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        defined_twice: list[str] = []
        for node in self.module.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assignments[node.targets[0].id] = node.value
            elif isinstance(node, ast.FunctionDef):
                if node.name in self.functions and node.name not in defined_twice:
                    defined_twice.append(node.name)
                self.functions[node.name] = node  # Python semantics: the last definition wins
        if defined_twice:
            self.notes.append(f"function(s) defined twice in source, last definition wins: {defined_twice}")

    def fail(self, what: str) -> ExecrlError:
        return ExecrlError(f"{REPOSITORY} {self.source.path}: {what}; the file's layout is not the one expected")

    def literal(self, name: str) -> Any:
        node = self.assignments.get(name)
        if node is None:
            raise self.fail(f"no module-level `{name} = ...`")
        return self.value(node)

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "contain_words":
            words = [self.value(arg) for arg in node.args]
            if len(words) != 1 or not all(isinstance(w, str) for w in words[0]):
                raise self.fail("contain_words(...) with other than one list of strings")
            regex = contain_words(words[0])
            self.notes.append(f"answer regex built with contain_words({json.dumps(words[0])}) -> {regex}")
            return regex
        if isinstance(node, ast.List):
            return [self.value(element) for element in node.elts]
        try:
            return ast.literal_eval(node)
        except ValueError:
            raise self.fail(f"line {node.lineno}: {ast.unparse(node)!r} is not a literal") from None

    def state(self, variable: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The world state a ``State()`` chain builds, and the chain's calls in source order."""
        node = self.assignments.get(variable)
        calls: list[dict[str, Any]] = []
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls.append({"op": node.func.attr, "args": [self.value(arg) for arg in node.args]})
            node = node.func.value
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "State"):
            raise self.fail(f"`{variable}` is not a State().add...() chain")
        calls.reverse()
        state: dict[str, Any] = {"locations": [], "objects": {}, "agents": {}, "robot_location": ""}
        for call in calls:
            op, args = call["op"], call["args"]
            if op == "addLocation" and len(args) == 1:
                state["locations"].append(args[0])
            elif op == "addObject" and len(args) == 2:
                state["objects"].setdefault(args[1], []).append(args[0])
            elif op == "addAgent" and len(args) == 3:
                state["agents"].setdefault(args[1], []).append({"name_regex": args[0], "answers": args[2]})
            elif op == "addRobotLocation" and len(args) == 1:
                state["robot_location"] = args[0]
            else:
                raise self.fail(f"`{variable}` calls {op} with {len(args)} arguments")
        return state, calls

    def tests(self) -> list[dict[str, Any]]:
        node = self.assignments.get("tests")
        if not isinstance(node, ast.List):
            raise self.fail("no module-level `tests = [...]`")
        tests = []
        for index, entry in enumerate(node.elts):
            if not isinstance(entry, ast.Dict):
                raise self.fail(f"tests[{index}] is not a dict")
            fields = {ast.literal_eval(k): v for k, v in zip(entry.keys, entry.values, strict=True) if k is not None}
            state_node, check_node = fields.get("state"), fields.get("test")
            if not (isinstance(state_node, ast.Name) and isinstance(check_node, ast.Name)):
                raise self.fail(f"tests[{index}] does not name a state and a test function")
            check = self.functions.get(check_node.id)
            if check is None:
                raise self.fail(f"tests[{index}] names {check_node.id}, which the file does not define")
            state, construction = self.state(state_node.id)
            timeout = self.value(fields["timeout"]) if "timeout" in fields else False
            tests.append(
                {
                    "test_index": index,
                    "state_var": state_node.id,
                    "initial_state": state,
                    "state_construction": construction,
                    "check_function": check_node.id,
                    "check_docstring": ast.get_docstring(check),
                    "timeout_expected": bool(timeout),
                }
            )
        return tests


def extract_task(source: TaskSource) -> dict[str, Any]:
    """One task's record of roboeval_tasks.json."""
    extractor = _Extractor(source)
    name = extractor.literal("name")
    prompts = extractor.literal("prompts")
    if not isinstance(name, str) or not (isinstance(prompts, list) and all(isinstance(p, str) for p in prompts)):
        raise extractor.fail("`name` is not a string or `prompts` not a list of strings")
    tests = extractor.tests()
    return {
        "name": name,
        "source_file": source.path,
        "source_blob_sha1": source.blob_sha1,
        "prompts": prompts,
        "num_prompts": len(prompts),
        "tests": tests,
        "num_tests": len(tests),
        "extraction_notes": extractor.notes,
    }


def build_files(sources: list[TaskSource]) -> dict[str, bytes]:
    """``roboeval/roboeval_tasks.json`` and ``roboeval/roboeval_prompts.jsonl`` from the task files."""
    tasks = [extract_task(source) for source in sources]
    meta = {
        **META,
        "counts": {
            "tasks": len(tasks),
            "prompts_total": sum(t["num_prompts"] for t in tasks),
            "test_states_total": sum(t["num_tests"] for t in tasks),
        },
    }
    tasks_json = json.dumps({"meta": meta, "tasks": tasks}, indent=1, ensure_ascii=False)
    prompts = "".join(
        json.dumps(
            {
                "task": task["name"],
                "prompt_index": index,
                "id": f"{task['name']}_{index}",
                "prompt": prompt,
                "num_test_states": task["num_tests"],
            }
        )
        + "\n"
        for task in tasks
        for index, prompt in enumerate(task["prompts"])
    )
    return {
        "roboeval/roboeval_tasks.json": tasks_json.encode("utf-8"),
        "roboeval/roboeval_prompts.jsonl": prompts.encode("utf-8"),
    }
