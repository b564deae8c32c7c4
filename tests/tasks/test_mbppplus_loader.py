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


@pytest.mark.parametrize("name", ["MbppPlus-v0.2.0.jsonl", "MbppPlus-v0.1.0.jsonl"])
def test_fixups_match_evalplus_on_every_task(data_dir: Path, name: str) -> None:
    evalplus_mbpp = pytest.importorskip("evalplus.data.mbpp")
    for line in (data_dir / "mbppplus" / name).read_text().splitlines():
        record = json.loads(line)
        number = int(record["task_id"].split("/")[1])
        for key in ("base_input", "plus_input"):
            theirs = evalplus_mbpp.mbpp_deserialize_inputs(
                record["task_id"], json.loads(json.dumps(record[key]))
            )
            ours = fix_inputs(number, record[key])
            assert repr(ours) == repr(tuple(tuple(inp) for inp in theirs)), (record["task_id"], key)


def test_serialisation_matches_evalplus_for_special_tasks(data_dir: Path) -> None:
    evalplus_mbpp = pytest.importorskip("evalplus.data.mbpp")
    for task_id, inputs in [("Mbpp/124", [(0.5, 1 + 1j)]), ("Mbpp/252", [(2j,)])]:
        number = int(task_id.split("/")[1])
        assert serialize_failing_inputs(number, inputs) == [
            list(x) for x in evalplus_mbpp.mbpp_serialize_inputs(task_id, inputs)
        ]


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
