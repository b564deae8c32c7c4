"""The execrl reward manager on a real verl ``DataProto`` laid out as verl's PPO trainer lays it out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

verl = pytest.importorskip(
    "verl.workers.reward_manager",
    reason="verl cannot be imported (pip install verl, or --no-deps verl plus tensordict and omegaconf)",
)
from verl import DataProto

from execrl.credit import offsets_for_token_ids
from execrl.integrations.verl import ExecrlRewardManager, compute_score
from execrl.integrations.verl_data import TaskCheck, verl_rows, write_verl_parquet
from execrl.rewards import RewardFormula, load_config
from execrl.rl.rewarding import judge_responses
from execrl.tasks.types import Task

REWARD_YAML = """\
judges:
  syntax:
    weight: 1.0
    credit: localized
    credit_options: {fraction: 1.0}   # all of the penalty on the offending tokens
  tests:
    weight: 1.0
    credit: uniform
    settings: {timeout_s: 2.0, scoring: partial}   # partial credit: three distinct totals
"""

TASK = Task(
    task_id="add/1",
    prompt="Write add(a, b).",
    entry_point="add",
    canonical_solution="def add(a, b):\n    return a + b\n",
    test_asserts=("assert add(1, 2) == 3", "assert add(0, 0) == 0"),
)
BAD_LINE = "    return a +"
RESPONSES = [
    "```python\ndef add(a, b):\n    return a + b\n```",  # passes: 1 + bonus, spread over every token
    f"```python\ndef add(a, b):\n{BAD_LINE}\n```",  # syntax error on line 2
    "```python\ndef add(a, b):\n    return a - b\n```",  # one test of two passes
]
PROMPTS = ["Write add(a, b).", "Please write a function add(a, b) that adds two numbers.", "add"]
PROMPT_LEN, RESPONSE_LEN = 40, 64


@pytest.fixture(scope="module")
def reward_config(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("reward") / "reward.yaml"
    path.write_text(REWARD_YAML)
    return str(path)


def make_batch(tokenizer) -> tuple[DataProto, list[list[int]]]:
    """Left-padded prompts, right-padded responses ending in eos, as verl's rollout returns them."""
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    prompts, responses, masks, response_ids = [], [], [], []
    for prompt, response in zip(PROMPTS, RESPONSES):
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        r = tokenizer(response, add_special_tokens=False)["input_ids"] + [eos]
        assert len(p) <= PROMPT_LEN and len(r) <= RESPONSE_LEN
        response_ids.append(r)
        prompts.append([pad] * (PROMPT_LEN - len(p)) + p)
        responses.append(r + [pad] * (RESPONSE_LEN - len(r)))
        masks.append([0] * (PROMPT_LEN - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (RESPONSE_LEN - len(r)))
    prompts_t, responses_t = torch.tensor(prompts), torch.tensor(responses)
    attention_mask = torch.tensor(masks)
    rows = verl_rows([TASK] * len(RESPONSES), "builtin", "train")
    batch = DataProto.from_dict(
        tensors={
            "prompts": prompts_t,
            "responses": responses_t,
            "input_ids": torch.cat([prompts_t, responses_t], dim=-1),
            "attention_mask": attention_mask,
            "position_ids": torch.clamp(torch.cumsum(attention_mask, dim=-1) - 1, min=0),
            "response_mask": attention_mask[:, PROMPT_LEN:],
        },
        non_tensors={
            key: np.array([row[key] for row in rows], dtype=object)
            for key in ("data_source", "reward_model", "extra_info")
        },
    )
    return batch, response_ids


@pytest.fixture(scope="module")
def scored(tiny_tokenizer, reward_config):
    manager = verl.get_reward_manager_cls("execrl")(
        tokenizer=tiny_tokenizer, num_examine=1, compute_score=None, reward_fn_key="data_source",
        reward_config=reward_config,
    )
    batch, response_ids = make_batch(tiny_tokenizer)
    return manager(batch, return_dict=True), response_ids


def test_discoverable_through_verls_registry():
    assert verl.get_reward_manager_cls("execrl") is ExecrlRewardManager


def test_reward_tensor_is_dense_and_only_on_valid_response_tokens(scored):
    output, response_ids = scored
    rewards = output["reward_tensor"]
    assert rewards.shape == (len(RESPONSES), RESPONSE_LEN) and rewards.dtype == torch.float32
    for row, ids in zip(rewards, response_ids):
        assert torch.all(row[len(ids):] == 0)
    # the passing response: tests reward (1 + bonus) spread evenly, eos included
    first = rewards[0, : len(response_ids[0])]
    assert torch.allclose(first, torch.full_like(first, 1.5 / len(response_ids[0])))


def test_syntax_penalty_lands_on_the_offending_lines_tokens(scored, tiny_tokenizer):
    output, response_ids = scored
    row = output["reward_tensor"][1]
    text, offsets = offsets_for_token_ids(tiny_tokenizer, response_ids[1])
    start = text.index(BAD_LINE)
    line = (start, start + len(BAD_LINE) + 1)  # with its line break: "a +" is incomplete where the line ends
    penalised = [i for i, value in enumerate(row.tolist()) if value != 0]
    assert penalised, "the syntax error got no penalty"
    assert all(offsets[i][0] < line[1] and offsets[i][1] > line[0] for i in penalised)
    assert row.sum().item() == pytest.approx(-1.0)  # syntax -1; the tests judge has no code to run: 0


def test_row_sums_equal_execrls_totals_and_extra_info_logs_each_judge(scored, tiny_tokenizer, reward_config):
    output, response_ids = scored
    formula = RewardFormula(load_config(reward_config))
    expected = judge_responses(formula, tiny_tokenizer, [TASK] * len(RESPONSES), response_ids)
    sums = output["reward_tensor"].sum(dim=-1).tolist()
    assert sums == pytest.approx(expected.totals)
    assert sums == pytest.approx([1.5, -1.0, 0.5])
    extra = output["reward_extra_info"]
    assert extra["execrl_total"] == pytest.approx(expected.totals)
    assert extra["execrl_tests"] == pytest.approx([1.5, 0.0, 0.5])
    assert extra["execrl_syntax"] == pytest.approx([0.0, -1.0, 0.0])
    assert all(len(values) == len(RESPONSES) for values in extra.values())


def test_without_return_dict_the_tensor_alone(tiny_tokenizer, reward_config):
    manager = ExecrlRewardManager(tiny_tokenizer, 0, reward_config=reward_config)
    batch, _ = make_batch(tiny_tokenizer)
    assert manager(batch).shape == (len(RESPONSES), RESPONSE_LEN)


def test_compute_score_gives_the_same_total_as_a_scalar(reward_config):
    rows = verl_rows([TASK], "builtin", "train")
    gt = rows[0]["reward_model"]["ground_truth"]
    scores = [compute_score("execrl/builtin", r, gt, reward_config=reward_config) for r in RESPONSES]
    assert [s["score"] for s in scores] == pytest.approx([1.5, -1.0, 0.5])


def test_verls_rl_dataset_reads_the_parquet_and_its_ground_truth_is_the_task_check(tmp_path, tiny_tokenizer):
    pytest.importorskip("datasets", reason="verl's RLHFDataset reads parquet through the datasets package")
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    path = tmp_path / "train.parquet"
    assert write_verl_parquet(path, [TASK], "builtin", "train") == 1
    dataset = RLHFDataset(
        data_files=[str(path)], tokenizer=tiny_tokenizer, config=OmegaConf.create({"max_prompt_length": 256})
    )
    [row] = list(dataset)
    assert row["data_source"] == "execrl/builtin"
    assert row["raw_prompt"] == [{"role": "user", "content": TASK.prompt}]
    assert row["extra_info"] == {"split": "train", "index": 0, "task_id": "add/1"}
    check = TaskCheck.from_ground_truth(row["reward_model"]["ground_truth"])
    assert check.task().test_asserts == TASK.test_asserts and check.entry_point == "add"
