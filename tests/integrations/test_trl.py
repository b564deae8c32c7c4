"""execrl's judges as TRL reward functions: scores of known code, and real GRPO / RLOO steps on CPU."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures.tiny_model import make_tiny_model

from execrl.errors import ExecrlError
from execrl.integrations.trl import JudgeReward, completion_text, task_dataset, trl_rewards
from execrl.rewards import RewardFormula, parse_config
from execrl.tasks.builtin import generate_python_tasks

TASK = generate_python_tasks(1, seed=0, levels=[1], split="train")[0]  # swap_o_for_s(text), 5 asserts

CORRECT = f"```python\n{TASK.canonical_solution}```"
BROKEN = f"```python\ndef {TASK.entry_point}(text):\n    return text\n```"  # passes the asserts without an 'o'
NO_PARSE = f"```python\ndef {TASK.entry_point}(text)\n    return text\n```"


def call(func: JudgeReward, completions: list[Any], **columns: Any) -> list[float]:
    count = len(completions)
    columns = {"tests": [list(TASK.test_asserts)] * count, "test_setup": [""] * count, **columns}
    return func(prompts=[TASK.prompt] * count, completions=completions, trainer_state=None, **columns)


def test_one_function_per_judge_with_the_judges_weights(tmp_path: Path) -> None:
    rewards = trl_rewards()  # the default formula
    assert rewards.names == ["syntax", "tests", "style", "security"]
    assert rewards.weights == [1.0, 1.0, 0.25, 0.5]
    inline = {"judges": {"tests": {"weight": 2.0}, "syntax": {"weight": 0.5}}}
    assert trl_rewards(inline).weights == [2.0, 0.5]
    path = tmp_path / "reward.yaml"
    path.write_text(yaml.safe_dump(inline, sort_keys=False))
    assert trl_rewards(str(path)).names == ["tests", "syntax"]


def test_known_code_scores() -> None:
    rewards = trl_rewards()
    funcs = dict(zip(rewards.names, rewards.funcs))
    completions = [CORRECT, BROKEN, NO_PARSE]
    assert call(funcs["syntax"], completions) == [0.0, 0.0, -1.0]
    tests = call(funcs["tests"], completions)
    assert tests[0] == 1.5  # every assert passes, plus the all-pass bonus
    assert tests[1] == 0.0 and tests[2] == 0.0  # partly right earns nothing by default (scoring: all)
    totals = [sum(w * s for w, s in zip(rewards.weights, scores))
              for scores in zip(*(call(f, completions) for f in rewards.funcs))]
    assert totals[0] > totals[1] > totals[2]
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    assert call(funcs["tests"], conversational) == tests


def test_weighted_sum_is_the_formula_total_with_normalisation_and_clipping() -> None:
    config = {"judges": {
        "syntax": {"weight": 2.0, "normalize": True},
        "tests": {"weight": 1.0, "clip": [0.0, 1.0]},
        "digits": {"kind": "plugin", "weight": 0.5, "settings": {"callable": "trl_test_judges:digit_share"}},
    }}
    rewards, formula = trl_rewards(config), RewardFormula(parse_config(config))
    for batch in ([CORRECT, NO_PARSE, "x = 12"], [NO_PARSE, BROKEN, CORRECT, "1 2 3"]):  # stats carry over
        scores = [call(f, batch) for f in rewards.funcs]
        adapter = [math.fsum(w * s[i] for w, s in zip(rewards.weights, scores)) for i in range(len(batch))]
        expected = formula.score_batch([formula.candidate(c, tests=TASK.test_asserts) for c in batch])
        assert adapter == pytest.approx([b.total for b in expected.breakdowns], abs=1e-12)
    assert scores[1][2] == 1.0  # tests clipped from 1.5


def test_a_tests_judge_needs_a_tests_column() -> None:
    tests = trl_rewards().funcs[1]
    with pytest.raises(ExecrlError, match="no `tests` column"):
        tests(prompts=["p"], completions=[CORRECT])
    assert trl_rewards().funcs[0](prompts=["p"], completions=[NO_PARSE]) == [-1.0]  # syntax needs none


def test_task_dataset_rows() -> None:
    tasks = generate_python_tasks(3, seed=0, levels=[1], split="train")
    chat = task_dataset(tasks, system_prompt="Answer in Python.")
    assert chat.column_names == ["prompt", "task_id", "tests", "test_setup"]
    assert chat[0]["prompt"] == [{"role": "system", "content": "Answer in Python."},
                                 {"role": "user", "content": tasks[0].prompt}]
    assert chat[2]["tests"] == list(tasks[2].test_asserts) and chat[2]["task_id"] == tasks[2].task_id
    assert task_dataset(tasks, conversational=False)[1]["prompt"] == tasks[1].prompt


# --- real TRL steps ----------------------------------------------------------------------------------

REWARD = {"judges": {
    "syntax": {"weight": 1.0},
    "tests": {"weight": 1.0},
    "digits": {"kind": "plugin", "weight": 0.5, "settings": {"callable": "trl_test_judges:digit_share"}},
}}


class Recorder:
    """A reward function that keeps what TRL passed to it and what it returned."""

    def __init__(self, func: JudgeReward) -> None:
        self.func = func
        self.__name__ = func.__name__
        self.calls: list[tuple[list[Any], list[list[str]], list[float]]] = []

    def __call__(self, **kwargs: Any) -> list[float]:
        scores = self.func(**kwargs)
        self.calls.append((list(kwargs["completions"]), list(kwargs["tests"]), scores))
        return scores


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.mark.parametrize("trainer_kind", ["grpo", "rloo"])
def test_trl_trainer_logs_execrl_rewards(trainer_kind: str, tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    rewards = trl_rewards(REWARD)
    recorders = [Recorder(f) for f in rewards.funcs]
    tasks = generate_python_tasks(8, seed=0, levels=[1], split="train")
    config_class, trainer_class = (GRPOConfig, GRPOTrainer) if trainer_kind == "grpo" else (RLOOConfig, RLOOTrainer)
    args = config_class(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, num_generations=2,
        max_completion_length=8, reward_weights=rewards.weights, logging_steps=1, report_to=[],
        use_cpu=True, save_strategy="no", bf16=False, seed=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = trainer_class(
            model=str(tiny_model_dir), reward_funcs=recorders, args=args,
            # GRPO with chat prompts, RLOO with plain-text ones: both formats reach the judges
            train_dataset=task_dataset(tasks, conversational=trainer_kind == "grpo"),
            processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
        )
        trainer.train()

    logged = [r for r in trainer.state.log_history if "reward" in r]
    assert len(logged) == 2 and all(len(r.calls) == 2 for r in recorders)
    digits = recorders[2].calls
    assert any(score > 0 for _, _, scores in digits for score in scores)  # so the 0.5 weight shows in `reward`
    formula = RewardFormula(parse_config(REWARD))
    for step, log in enumerate(logged):
        completions, tests, _ = recorders[0].calls[step]
        assert all(t in [list(task.test_asserts) for task in tasks] for t in tests)  # the rows' own tests
        judged = formula.score_batch([formula.candidate(completion_text(c), tests=t)
                                      for c, t in zip(completions, tests)]).breakdowns
        for recorder in recorders:
            name = recorder.__name__
            assert recorder.calls[step][2] == [b.component(name).raw for b in judged]
            assert log[f"rewards/{name}/mean"] == pytest.approx(sum(recorder.calls[step][2]) / len(judged))
        assert log["reward"] == pytest.approx(sum(b.total for b in judged) / len(judged))
