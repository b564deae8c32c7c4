from __future__ import annotations

import json
from pathlib import Path

import pytest

from execrl.errors import ExecrlError
from execrl.tasks import load_mbppplus
from execrl.tasks.mbppplus_fixups import fix_inputs, serialize_failing_inputs


@pytest.fixture(scope="module")
def dataset(data_dir: Path):
    return load_mbppplus(data_dir, download=False)


def test_mbppplus_v020_counts_and_fingerprint(dataset) -> None:
    tasks = dataset.tasks
    assert len(tasks) == 378
    assert sum(len(t.base_inputs) for t in tasks.values()) == 1174
    assert sum(len(t.plus_inputs) for t in tasks.values()) == 39841
    assert tasks["Mbpp/793"].plus_inputs == ()
    assert sum(t.atol != 0 for t in tasks.values()) == 13
    assert dataset.sha256 == "b54e762755248ca411b523c917fa9f93c07b5ff2966bf60b3917b853926a3dad"
    assert "Mbpp/83" not in tasks  # removed in v0.2.0


def test_reference_code_is_prompt_then_canonical(dataset) -> None:
    task = dataset.tasks["Mbpp/2"]
    assert task.reference_code == task.prompt + task.canonical_solution
    assert task.solution_from_completion("pass") == task.prompt + "pass"
    assert task.entry_point == "similar_elements"


def test_fixups_rebuild_tuples_complex_and_dict_values(dataset) -> None:
    assert dataset.tasks["Mbpp/2"].base_inputs[0] == ((3, 4, 5, 6), (5, 7, 4, 10))
    assert all(isinstance(arg, tuple) for inp in dataset.tasks["Mbpp/2"].plus_inputs for arg in inp)
    assert dataset.tasks["Mbpp/124"].base_inputs[0] == (0.0, 1j)
    assert isinstance(dataset.tasks["Mbpp/252"].base_inputs[0][0], complex)
    students, *_ = dataset.tasks["Mbpp/722"].base_inputs[0]
    assert students["Cierra Vega"] == (6.2, 70)
    assert type(dataset.tasks["Mbpp/3"].base_inputs[0]) is tuple  # every input is an argument tuple


def test_serialised_failing_inputs_are_json_ready() -> None:
    assert serialize_failing_inputs(124, [(0.0, 1j)]) == [["0.0", "1j"]]
    assert serialize_failing_inputs(252, [(1 + 2j,)]) == [["(1+2j)"]]
    assert json.loads(json.dumps(serialize_failing_inputs(2, [((1, 2), {3})]))) == [[[1, 2], [3]]]


# The inputs' repr, with sets sorted: the two sides run in processes with different hash seeds, so a set
# of strings iterates in a different order in each.
_CANONICAL = """
def canonical(value):
    if isinstance(value, (set, frozenset)):
        return type(value).__name__ + "{" + ", ".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + "(" + ", ".join(canonical(v) for v in value) + ")"
    if isinstance(value, dict):
        return "dict{" + ", ".join(canonical(k) + ": " + canonical(v) for k, v in value.items()) + "}"
    return repr(value)
"""
_namespace: dict = {}
exec(_CANONICAL, _namespace)  # noqa: S102 - our own helper, shared verbatim with the EvalPlus side
canonical = _namespace["canonical"]

_EVALPLUS_DESERIALIZE = _CANONICAL + """
import json, sys
from evalplus.data.mbpp import mbpp_deserialize_inputs
out = {}
for line in open(sys.argv[1]).read().splitlines():
    record = json.loads(line)
    out[record["task_id"]] = {
        key: canonical(tuple(tuple(inp) for inp in mbpp_deserialize_inputs(record["task_id"], record[key])))
        for key in ("base_input", "plus_input")
    }
print(json.dumps(out))
"""

_EVALPLUS_SERIALIZE = """
import json
from evalplus.data.mbpp import mbpp_serialize_inputs
cases = [("Mbpp/124", [(0.5, 1 + 1j)]), ("Mbpp/252", [(2j,)])]
print(json.dumps({task_id: [list(x) for x in mbpp_serialize_inputs(task_id, inputs)] for task_id, inputs in cases}))
"""


@pytest.mark.parametrize("name", ["MbppPlus-v0.2.0.jsonl", "MbppPlus-v0.1.0.jsonl"])
def test_fixups_match_evalplus_on_every_task(data_dir: Path, evalplus, name: str) -> None:
    path = data_dir / "mbppplus" / name
    theirs = evalplus(_EVALPLUS_DESERIALIZE, str(path))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(theirs) == len(records)
    for record in records:
        number = int(record["task_id"].split("/")[1])
        for key in ("base_input", "plus_input"):
            ours = canonical(fix_inputs(number, record[key]))
            assert ours == theirs[record["task_id"]][key], (record["task_id"], key)


def test_serialisation_matches_evalplus_for_special_tasks(evalplus) -> None:
    theirs = evalplus(_EVALPLUS_SERIALIZE)
    for task_id, inputs in [("Mbpp/124", [(0.5, 1 + 1j)]), ("Mbpp/252", [(2j,)])]:
        assert serialize_failing_inputs(int(task_id.split("/")[1]), inputs) == theirs[task_id]


def test_missing_mbppplus_names_the_file_and_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXECRL_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ExecrlError) as info:
        load_mbppplus(tmp_path, download=False)
    assert str(tmp_path / "mbppplus" / "MbppPlus-v0.2.0.jsonl") in str(info.value)
    assert "mbppplus_release" in str(info.value)


def test_a_cached_download_is_used_when_the_data_directory_lacks_the_file(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = tmp_path / "cache" / "data" / "mbppplus" / "MbppPlus-v0.2.0.jsonl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes((data_dir / "mbppplus" / "MbppPlus-v0.2.0.jsonl").read_bytes())
    monkeypatch.setenv("EXECRL_CACHE_DIR", str(tmp_path / "cache"))
    assert len(load_mbppplus(tmp_path, download=False).tasks) == 378
