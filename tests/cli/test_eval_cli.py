"""``execrl eval``: results, report and plot files, summary, bad lines reported and skipped."""

from __future__ import annotations

import dataclasses
import json

import pytest

from execrl.cli import main
from execrl.eval.roboeval import load_reference_programs


def test_eval_roboeval_from_samples(tmp_path, capsys, data_dir):
    references = load_reference_programs(data_dir)
    broken = dataclasses.replace(references[1], id="broken", program="def task_program():\n    go_to('moon')\n")
    lines = [json.dumps(dataclasses.asdict(r)) for r in (references[0], broken)] + ["{not json"]
    samples = tmp_path / "s.jsonl"
    samples.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "r.json"
    assert main(["eval", "roboeval", "--samples", str(samples), "--out", str(out), "--data-dir", str(data_dir)]) == 0
    result = json.loads(out.read_text())
    programs = {p["id"]: p for p in result["programs"]}
    assert programs[references[0].id]["passed_all_states"] is True
    assert programs["broken"]["passed_all_states"] is False
    assert programs["broken"]["category"] == "RobotExecutionError"
    assert len(result["input_errors"]) == 1
    assert out.with_suffix(".md").read_text().startswith("# RoboEval")
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "pass@1" in capsys.readouterr().out


def test_eval_roboeval_semantics_flag(tmp_path, capsys, data_dir):
    # s.replace(...) is rewritten into s.rerobot.place(...) by the benchmark: a crash by default.
    program = (
        'def task_program():\n    start = get_current_location()\n    go_to("Zarko\'s office")\n'
        '    a = ask("Zarko", "Any cheese?", ["Yes", "No"])\n'
        '    b = ask("Zarko", "Any bread?", ["Yes", "No"])\n'
        '    go_to(start)\n    say("cheese: X".replace("X", a))\n'
    )
    samples = tmp_path / "s.jsonl"
    sample = {"id": "r", "task": "GrilledCheese", "prompt_index": 0, "program": program}
    samples.write_text(json.dumps(sample) + "\n")
    passed = {}
    for semantics in ("upstream", "injected"):
        out = tmp_path / semantics / "r.json"
        flag = [] if semantics == "upstream" else ["--roboeval-semantics", semantics]
        argv = ["eval", "roboeval", "--samples", str(samples), "--out", str(out), "--data-dir", str(data_dir), *flag]
        assert main(argv) == 0
        result = json.loads(out.read_text())
        assert result["summary"]["semantics"] == semantics
        assert out.with_suffix(".md").read_text().startswith(f"# RoboEval ({semantics} semantics)")
        passed[semantics] = result["programs"][0]["passed_all_states"]
    assert passed == {"upstream": False, "injected": True}
    code = main(["eval", "mbpp", "--samples", str(samples), "--out", str(tmp_path / "m.json"),
                 "--roboeval-semantics", "injected"])
    assert code == 2 and "applies to `execrl eval roboeval` only" in capsys.readouterr().err


def test_eval_with_nothing_valid_is_an_error(tmp_path, capsys, data_dir):
    samples = tmp_path / "s.jsonl"
    samples.write_text("nonsense\n")
    code = main(["eval", "roboeval", "--samples", str(samples), "--out", str(tmp_path / "r.json"), "--data-dir", str(data_dir)])
    assert code == 2
    assert "no sample could be evaluated" in capsys.readouterr().err


def test_eval_missing_samples_file(tmp_path, capsys):
    code = main(["eval", "mbpp", "--samples", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "r.json")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("bench", ["mbpp", "mbppplus"])
def test_eval_mbpp_family(tmp_path, bench, data_dir):
    from execrl.tasks.mbpp import load_mbpp

    task = next(t for t in load_mbpp(data_dir) if t.task_id == "Mbpp/11")
    samples = tmp_path / "s.jsonl"
    records = [
        {"task_id": "Mbpp/11", "solution": task.canonical_solution},
        {"task_id": "Mbpp/11", "solution": "def remove_Occ(s, ch):\n    return s\n"},
        {"task_id": "Mbpp/99999", "solution": "x = 1"},
    ]
    samples.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    out = tmp_path / "r.json"
    assert main(["eval", bench, "--samples", str(samples), "--out", str(out), "--data-dir", str(data_dir)]) == 0
    result = json.loads(out.read_text())
    records = result["eval"]["Mbpp/11"]
    assert len(records) == 2
    status_key = "status" if bench == "mbpp" else "base_status"
    assert [r[status_key] for r in records] == ["pass", "fail"]
    assert any("99999" in p for p in result["problems"])


def test_eval_generates_with_a_model_and_resumes(tmp_path, monkeypatch, data_dir):
    from fixtures.tiny_model import make_tiny_model

    from execrl.eval import generate as generation

    model_dir = make_tiny_model(tmp_path / "model")
    out = tmp_path / "gen" / "r.json"
    argv = ["eval", "roboeval", "--model", str(model_dir), "--n", "2", "--limit", "2", "--max-new-tokens", "6",
            "--batch-size", "4", "--out", str(out), "--data-dir", str(data_dir)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert len(result["programs"]) == 4  # 2 prompts x 2 samples
    assert all(p["id"].startswith("CountSavory_") for p in result["programs"])
    cache = out.with_suffix(".samples.jsonl")
    assert len(cache.read_text().splitlines()) == 4

    # A second run finds every sample in the cache and generates nothing.
    monkeypatch.setattr(generation, "_run", lambda *a, **k: pytest.fail("generated again"))
    assert main(argv) == 0


def test_eval_refuses_many_greedy_samples(tmp_path, capsys):
    argv = ["eval", "mbpp", "--model", str(tmp_path), "--n", "3", "--temperature", "0", "--out", str(tmp_path / "r.json")]
    assert main(argv) == 2
    assert "would repeat one answer" in capsys.readouterr().err
