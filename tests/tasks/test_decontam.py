from __future__ import annotations

import json

import pytest

from execrl.cli import main
from execrl.tasks.decontam import (
    DEFAULT_MAX_OVERLAP,
    NgramIndex,
    Reference,
    decontaminate,
    load_roboeval_prompts,
    ngrams,
    words,
)
from execrl.tasks.robot_gen import generate_robot_tasks


@pytest.fixture(scope="module")
def index(data_dir) -> NgramIndex:
    return NgramIndex(load_roboeval_prompts(data_dir))


def test_words_and_ngrams() -> None:
    assert words("Go to Arjun’s office, NOW!") == ["go", "to", "arjun's", "office", "now"]
    assert ngrams("a b c d") == {("a", "b", "c"), ("b", "c", "d")}
    assert ngrams("hi there") == {("hi", "there")}
    assert ngrams("...") == frozenset()


def test_overlap_is_the_shared_share_of_the_shorter_text() -> None:
    index = NgramIndex([Reference("r", "go to the kitchen and bring me a cup of tea")])
    assert index.overlap("Go to the kitchen, and bring me a cup of tea!").overlap == 1.0
    inside = index.overlap("bring me a cup of tea")  # contained: overlap 1, jaccard lower
    assert inside.overlap == 1.0 and inside.jaccard < 1.0 and inside.nearest == "r"
    assert index.overlap("wait in the garage until someone comes").overlap == 0.0


def test_roboeval_prompts_are_caught_and_excluded(index, data_dir) -> None:
    prompts = [ref.text for ref in load_roboeval_prompts(data_dir)]
    assert len(prompts) == 80
    reworded = prompts[0].replace("office", "room", 1)
    keep, report = decontaminate([prompts[5], reworded, "Wait in the garage until someone comes."], index)
    assert keep == [False, False, True]
    assert report.excluded == 2 and report.max_overlap == 1.0
    assert report.worst_text == prompts[5]


def test_generated_instructions_stay_far_from_roboeval(index) -> None:
    texts = [t.prompt for t in generate_robot_tasks(800, seed=0)]
    keep, report = decontaminate(texts, index)
    assert report.count == 800 and sum(count for _, _, count in report.histogram) == 800
    assert report.excluded == keep.count(False) == sum(index.overlap(t).overlap > DEFAULT_MAX_OVERLAP for t in texts)
    assert report.excluded <= 8  # our phrasings are our own: exclusions are rare
    assert report.max_overlap < 0.6 and report.quantiles[0][1] < 0.2
    assert "max overlap" in report.render()


def test_cli_writes_decontaminated_robot_tasks(tmp_path, data_dir, capsys) -> None:
    out = tmp_path / "robot.jsonl"
    code = main(["tasks", "robot", "--n", "60", "--seed", "3", "--out", str(out), "--data-dir", str(data_dir),
                 "--max-overlap", "0.2"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 60 and len({row["prompt"] for row in rows}) == 60
    index = NgramIndex(load_roboeval_prompts(data_dir))
    assert all(index.overlap(row["prompt"]).overlap <= 0.2 for row in rows)
    printed = capsys.readouterr().out
    assert "max overlap" in printed and "histogram" in printed and "wrote 60 robot tasks" in printed


def test_cli_without_data_says_where_to_get_it(tmp_path, capsys) -> None:
    code = main(["tasks", "robot", "--n", "5", "--out", str(tmp_path / "x.jsonl"), "--data-dir", str(tmp_path)])
    assert code == 2
    assert "roboeval_prompts.jsonl" in capsys.readouterr().err
