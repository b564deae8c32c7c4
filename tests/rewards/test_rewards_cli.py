from __future__ import annotations

import json

from execrl.cli import main
from execrl.rewards import DEFAULT_CONFIG_YAML

GOOD = "Sure:\n```python\nimport os\ndef add(a, b):\n    return a - b\n```\nDone."


def write_samples(path, lines: list) -> None:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")


def test_reward_end_to_end_then_show(tmp_path, tiny_tokenizer_dir, data_dir, capsys) -> None:
    samples, out, html = tmp_path / "s.jsonl", tmp_path / "o.jsonl", tmp_path / "o.html"
    write_samples(
        samples,
        [
            {"prompt": "add two numbers", "response": GOOD, "tests": ["assert add(1, 2) == 3"]},
            "{not json",
            {
                "prompt": "p",
                "response": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
                "task_id": "mbpp/2",
            },
            {"prompt": "p"},
            {"prompt": "p", "response": "x", "task_id": "humaneval/1"},
        ],
    )
    code = main(
        [
            "reward",
            "--samples",
            str(samples),
            "--tokenizer",
            str(tiny_tokenizer_dir),
            "--out",
            str(out),
            "--data-dir",
            str(data_dir),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1  # some lines were skipped
    assert "line 2: not valid JSON" in err
    assert "line 4: sample: response: Field required" in err
    assert "line 5: unknown task_id 'humaneval/1'" in err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 3]
    first, mbpp = records
    assert set(first["components"]) == {"syntax", "tests", "style", "security"}
    assert "".join(first["tokens"]) == GOOD
    assert len(first["tokens"]) == len(first["token_rewards"])
    assert abs(sum(first["token_rewards"]) - first["reward"]) < 1e-9
    failing = first["components"]["tests"]["findings"][0]
    assert failing["rule"] == "AssertionError"
    assert GOOD[failing["start"] : failing["end"]].startswith("def add(a, b):")
    unused = [f for f in first["components"]["style"]["findings"] if f["rule"] == "F401"]
    assert GOOD[unused[0]["start"] : unused[0]["end"]] == "os"
    assert set(unused[0]) == {"start", "end", "severity", "rule", "message"}
    assert mbpp["components"]["tests"]["score"] == 1.5  # MBPP task 2's three tests, all passing

    assert main(["show", str(out), "--html", str(html)]) == 0
    shown = capsys.readouterr().out
    assert "line 1: reward" in shown and "line 3: reward" in shown
    assert "line 3: reward" in html.read_text(encoding="utf-8")


def test_print_default_config(capsys) -> None:
    assert main(["reward", "--print-default-config"]) == 0
    assert capsys.readouterr().out == DEFAULT_CONFIG_YAML


def test_missing_arguments_and_bad_config_are_clean_errors(tmp_path, capsys) -> None:
    assert main(["reward", "--samples", "s.jsonl"]) == 2
    assert "needs --tokenizer, --out" in capsys.readouterr().err
    config = tmp_path / "c.yaml"
    config.write_text("judges:\n  style:\n    wieght: 1\n")
    samples = tmp_path / "s.jsonl"
    write_samples(samples, [{"response": "x = 1", "tests": []}])
    assert (
        main(
            [
                "reward",
                "--samples",
                str(samples),
                "--config",
                str(config),
                "--tokenizer",
                "t",
                "--out",
                str(tmp_path / "o.jsonl"),
            ]
        )
        == 2
    )
    assert "judges.style.wieght" in capsys.readouterr().err
