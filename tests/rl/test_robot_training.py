"""Training on generated robot tasks: completion prompts, the simulator judge, the robot pass rate."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from execrl.errors import ExecrlError
from execrl.rl import Trainer, load_config, parse_config
from execrl.rl.data import load_task_splits
from execrl.robot.prompting import PROMPT_PREFIX, STOP_SEQUENCES
from execrl.tasks.robot_gen import RobotTask, generate_robot_tasks
from execrl.tasks.task_file import write_tasks

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def robot_config(model_dir: Path, out: Path, **tasks: Any) -> dict[str, Any]:
    return {
        "seed": 1,
        "output_dir": str(out),
        "model": {"name": str(model_dir), "lora": {"rank": 4, "alpha": 8}},
        "tasks": {"source": "robot", "train_size": 4, "eval_size": 2, **tasks},
        "generation": {"max_new_tokens": 8, "max_prompt_tokens": 64, "stop_strings": list(STOP_SEQUENCES)},
        "reward": {
            "judges": {
                "syntax": {"weight": 1.0, "credit": "localized"},
                "simulator": {"weight": 1.0, "credit": "localized", "settings": {"states": 2}},
                "completion": {"weight": 1.0, "credit": "localized", "settings": {"states": 2}},
            }
        },
        "algorithm": {"steps": 1, "prompts_per_step": 2, "samples_per_prompt": 2, "minibatch_size": 2,
                      "micro_batch_size": 2, "epochs": 1},
        "checkpoint": {"every": 1},
        "eval": {"at_start": False},
        "logging": {"tensorboard": False, "plots": False, "progress": False},
        "export": {"adapter": False},
    }


def test_robot_run_logs_the_simulator_score_and_a_pass_rate(tiny_model_dir: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prompts longer than the tiny max_prompt_tokens
        run = Trainer(parse_config(robot_config(tiny_model_dir, tmp_path)))
        assert run.config.prompt_format == "completion"
        summary = run.train()
    [record] = run.state.history
    assert 0.0 <= record["judge/simulator"] <= 1.0
    assert -1.0 <= record["judge/syntax"] <= 0.0
    assert 0.0 <= record["eval/pass_rate"] <= 1.0
    assert summary.pass_rate_after == record["eval/pass_rate"]
    # The robot evaluation also reports RoboEval's execution-failure share and the completion rate.
    for name in ("execution_failure_share", "completion_rate", "pass_rate"):
        metric = f"eval/robot_{name}"
        assert 0.0 <= record[metric] <= 1.0
    assert record["eval/robot_pass_rate"] == record["eval/pass_rate"]  # every held-out task is a robot task


def test_completion_prompts_are_the_roboeval_prompt_without_chat_template(tiny_model_dir: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = Trainer(parse_config(robot_config(tiny_model_dir, tmp_path)))
        task = run.stream.tasks[0]
        text = run.tokenizer.decode(run.prompt_ids([task])[0])
    assert task.prompt.startswith(PROMPT_PREFIX) and task.prompt.endswith("def task_program():")
    assert task.prompt.endswith(text)  # the prompt's last tokens, no chat template around them


def test_judges_see_the_program_header_and_stop_before_the_stop_string(tiny_model_dir: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = Trainer(parse_config(robot_config(tiny_model_dir, tmp_path)))
    task = run.stream.tasks[0]
    ids = run.tokenizer('\n    say("hi")\ndef other():', add_special_tokens=False)["input_ids"]
    judged = run.judge([task], [ids])
    assert judged.texts[0].startswith('def task_program():\n    say("hi")')
    assert "other" not in judged.texts[0]
    assert judged.judge_scores["syntax"] == [0.0] and judged.judge_scores["simulator"] == [1.0]
    assert judged.judge_scores["completion"] == [0.0]  # runs, but does not do the errand
    assert len(judged.token_rewards[0]) <= len(ids)
    assert sum(judged.token_rewards[0]) == pytest.approx(judged.totals[0])


def test_robot_splits_from_a_task_file_keep_held_out_instructions_apart(tmp_path: Path) -> None:
    tasks = generate_robot_tasks(6, seed=5, states_per_task=2)
    write_tasks(tmp_path / "robot.jsonl", tasks)
    config = parse_config({"tasks": {"source": "robot", "file": str(tmp_path / "robot.jsonl"), "train_size": 4,
                                     "eval_size": 3, "seed": 4}}).tasks
    splits = load_task_splits(config)
    assert [t.task_id for t in splits.train] == [t.task_id for t in tasks[:4]]
    assert len(splits.eval) == 3 and all(isinstance(t, RobotTask) and t.states for t in splits.eval)
    assert not {t.prompt for t in splits.train} & {t.prompt for t in splits.eval}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tasks": {"file": "tasks.jsonl"}}, "needs source: robot"),
        ({"tasks": {"source": "robot"}, "model": {"prompt_format": "chat"}}, "prompt_format: completion"),
        ({"model": {"prompt_format": "plain"}}, "model.prompt_format"),
    ],
)
def test_robot_config_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecrlError, match=message):
        parse_config(data)


def test_prompt_format_follows_the_source_unless_set() -> None:
    assert parse_config({}).prompt_format == "chat"
    assert parse_config({"tasks": {"source": "robot"}}).prompt_format == "completion"
    assert parse_config({"model": {"prompt_format": "completion"}}).prompt_format == "completion"


def test_robot_yaml_validates() -> None:
    config = load_config(CONFIGS / "robot.yaml")
    assert config.tasks.source == "robot" and config.prompt_format == "completion"
    assert config.generation.stop_strings == STOP_SEQUENCES
    assert set(config.reward["judges"]) == {"syntax", "simulator", "completion"}
