"""execrl's per-token rewards through verl 0.9's own V1 code, from the agent loop to the advantages.

One PPO step's reward path on a local Ray instance. Everything is verl's code except the rollout
server (``verl_remote_helpers.CannedRolloutServer``: fixed completions instead of vLLM) and what the GPU
workers would write into the TransferQueue before the advantages (the critic's values, the actor's and
the reference's log-probs):

    examples/verl/ppo_execrl_dense.yaml composed by Hydra over verl's ppo_trainer
    -> PPOTrainerSync: its tokenizer, its dataloader over execrl's parquet rows, its prompt submission
    -> AgentLoopManagerTQ -> AgentLoopWorkerTQ (a Ray actor) -> ExecrlAgentLoop, built from the example's
       agent-loop config -> LLMServerClient + GlobalRequestLoadBalancer -> stub server; the judges run
       their programs in a Ray sandbox farm; verl's reward-loop workers stand by, as in a real run
    -> TransferQueue (SimpleStorage) -> ReplayBuffer.sample -> PPOTrainer._compute_advantage
       -> compute_advantage (GAE, REINFORCE++) -> advantages and returns back in the TransferQueue.

Needs verl's full dependency set, which pins transformers < 5.11: its own venv (make test-verl).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "verl.trainer.ppo.v1",
    reason="verl 0.9's V1 trainer and its dependencies are not installed here: make test-verl runs this",
    exc_type=ImportError,
)

import hydra
import ray
import torch
import transfer_queue as tq
import verl_remote_helpers
from fixtures.tiny_model import make_tiny_model
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf, open_dict
from tensordict import TensorDict
from transformers import AutoTokenizer
from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap
from verl.experimental.reward_loop import RewardLoopManager
from verl.trainer.ppo.v1 import AgentLoopManagerTQ, PPOTrainerSync
from verl.trainer.ppo.v1 import trainer_base as verl_trainer_base
from verl.utils import torch_functional as verl_F
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.workers.rollout.llm_server import LLMServerClient
from verl.workers.rollout.router import GlobalRequestLoadBalancer

from execrl.credit import offsets_for_token_ids
from execrl.errors import ExecrlError
from execrl.integrations.verl_data import TaskCheck, write_verl_parquet
from execrl.rewards import RewardFormula, load_config
from execrl.rl.rewarding import judge_responses
from execrl.tasks.types import Task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "verl"

REWARD_YAML = """\
judges:
  syntax:
    weight: 1.0
    credit: localized
    credit_options: {fraction: 1.0}   # all of the penalty on the offending tokens
  tests:
    weight: 1.0
    credit: uniform
    settings: {timeout_s: 2.0, scoring: partial}
"""

BAD_LINE = "    return a +"
# One task per completion; a marker in each prompt tells the stub server which completion to return.
COMPLETIONS = {
    "[pass]": "```python\ndef add(a, b):\n    return a + b\n```",  # tests 1 + bonus, over every token
    "[syntax]": f"```python\ndef add(a, b):\n{BAD_LINE}\n```",  # syntax -1 on the offending line's tokens
    "[half]": "```python\ndef add(a, b):\n    return a - b\n```",  # one test of two passes
}
TOTALS = {"[pass]": 1.5, "[syntax]": -1.0, "[half]": 0.5}
TASKS = [
    Task(
        task_id=f"add/{marker}",
        prompt=f"{marker} Write add(a, b).",
        entry_point="add",
        canonical_solution="def add(a, b):\n    return a + b\n",
        test_asserts=("assert add(1, 2) == 3", "assert add(0, 0) == 0"),
    )
    for marker in COMPLETIONS
]
SAMPLES_PER_PROMPT = 2


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("verl_dense")
    make_tiny_model(root / "model")
    write_verl_parquet(root / "train.parquet", TASKS, "builtin", "train")
    write_verl_parquet(root / "test.parquet", TASKS, "builtin", "test")
    (root / "reward.yaml").write_text(REWARD_YAML)
    # The example's agent-loop entry, pointed at this test's reward config and a one-actor sandbox farm.
    [entry] = OmegaConf.load(EXAMPLES / "execrl_agent_loop.yaml")
    entry.reward_config = str(root / "reward.yaml")
    entry.sandbox, entry.sandbox_size = "ray", 1
    OmegaConf.save(OmegaConf.create([entry]), root / "agent_loop.yaml")
    return root


def compose_config(workdir: Path, *overrides: str):
    """The example config with the test's model, data and sizes (what launch_dense.sh overrides too)."""
    model = str(workdir / "model")
    with initialize_config_dir(config_dir=str(EXAMPLES), version_base=None):
        return compose(
            config_name="ppo_execrl_dense",
            overrides=[
                f"actor_rollout_ref.model.path={model}",
                f"critic.model.path={model}",
                f"data.train_files={workdir / 'train.parquet'}",
                f"data.val_files={workdir / 'test.parquet'}",
                f"data.train_batch_size={len(TASKS)}",
                "data.max_prompt_length=64",
                "data.max_response_length=64",
                "data.dataloader_num_workers=0",
                "data.shuffle=false",
                f"actor_rollout_ref.rollout.n={SAMPLES_PER_PROMPT}",
                "actor_rollout_ref.rollout.agent.num_workers=1",
                f"actor_rollout_ref.rollout.agent.agent_loop_config_path={workdir / 'agent_loop.yaml'}",
                "trainer.device=cpu",
                *overrides,
            ],
        )


@pytest.fixture(scope="module")
def cluster():
    ray.cloudpickle.register_pickle_by_value(verl_remote_helpers)  # not an installed module: ship it by value
    ray.init(num_cpus=4, include_dashboard=False, object_store_memory=200 << 20, log_to_driver=False)
    tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
    yield
    tq.close()
    ray.shutdown()


@dataclass
class Step:
    """What one step's reward path left: the rollout as stored, and each estimator's view of it."""

    markers: list[str]  # each row's task
    response_ids: list[list[int]]
    stored: Any  # the TransferQueue's fields of the rows, after the rollout
    values: list[torch.Tensor]  # the critic stand-in's values
    advantages: dict[str, tuple[Any, Any]]  # estimator -> (the padded batch it saw, what it stored)
    prompts_served: list[str]
    worker_state: dict[str, Any] | None  # the execrl agent loop's worker: its sandbox and how much it scored


def values_of(length: int) -> torch.Tensor:
    """The critic's stand-in: values that vary along the response, so advantages differ from returns."""
    return torch.linspace(0.4, -0.2, length)


def nested(rows: list[torch.Tensor]) -> torch.Tensor:
    return torch.nested.as_nested_tensor(rows, layout=torch.jagged)


def run_step(workdir: Path, estimators: tuple[str, ...], *overrides: str) -> Step:
    """One step: the rollout (verl's agent-loop workers, the stub server), then the trainer's advantages."""
    config = compose_config(workdir, *overrides)
    trainer = PPOTrainerSync(config)
    trainer._init_tokenizer()
    trainer._init_dataloader()
    trainer.global_steps = 1
    trainer.reward_loop_manager = RewardLoopManager(config=config, rm_resource_pool=None)
    server = ray.remote(verl_remote_helpers.CannedRolloutServer).remote(
        str(workdir / "model"), COMPLETIONS, 1
    )
    balancer = ray.remote(GlobalRequestLoadBalancer).remote(servers={"stub": server})
    trainer.agent_loop_manager = AgentLoopManagerTQ.create(
        config=config,
        llm_client=LLMServerClient(config, load_balancer_handle=balancer),
        teacher_client=None,
        reward_loop_worker_handles=trainer.get_reward_handles(),
    )
    trainer._add_batch_to_generate()
    batch, _ = trainer.replay_buffer.sample(global_steps=1, partition_id="train", batch_size=len(TASKS))
    fields = ["responses", "response_mask", "rm_scores", "reward_model", "extra_fields"]
    stored = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
    response_ids = [row.tolist() for row in stored["responses"].unbind()]
    # What the GPU workers would leave in the TransferQueue: the critic's values, the policies' log-probs.
    values = [values_of(len(ids)) for ids in response_ids]
    zeros = [torch.zeros(len(ids)) for ids in response_ids]
    tq.kv_batch_put(
        keys=batch.keys,
        partition_id=batch.partition_id,
        fields=TensorDict(
            {"values": nested(values), "old_log_probs": nested(zeros), "ref_log_prob": nested(zeros)},
            batch_size=len(batch.keys),
        ),
    )
    results = {estimator: advantages(trainer, batch, estimator) for estimator in estimators}
    [worker] = trainer.agent_loop_manager.agent_loop_workers
    state = ray.get(worker.__ray_call__.remote(verl_remote_helpers.judging_state))
    prompts = ray.get(server.seen_prompts.remote())
    # The next step starts clean: no trajectories left, and the name of verl's reward-loop worker free again.
    tq.kv_clear(keys=list(tq.kv_list("train").get("train", {})), partition_id="train")
    for actor in [*trainer.reward_loop_manager.reward_loop_workers, worker, server, balancer]:
        ray.kill(actor)
    wait_for_names_to_free([f"reward_loop_worker_{i}" for i in range(config.reward.num_workers)])
    markers = [
        TaskCheck.from_ground_truth(rm["ground_truth"]).task_id[len("add/") :]
        for rm in stored["reward_model"]
    ]
    return Step(markers, response_ids, stored, values, results, prompts, state)


def wait_for_names_to_free(names: list[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for name in names:
        while True:
            try:
                ray.get_actor(name)
            except ValueError:
                break
            assert time.monotonic() < deadline, f"actor {name} still alive after ray.kill"
            time.sleep(0.2)


def advantages(trainer, batch, estimator: str) -> tuple[Any, Any]:
    """The trainer's own _compute_advantage: the padded batch its estimator saw, and what it stored."""
    with open_dict(trainer.config):
        trainer.config.algorithm.adv_estimator = estimator
    seen = []
    real = verl_trainer_base.compute_advantage_for_multi_trajectories

    def spy(data, **kwargs):
        seen.append(real(data, **kwargs))
        return seen[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verl_trainer_base, "compute_advantage_for_multi_trajectories", spy)
        trainer._compute_advantage(batch, metrics={})
    [padded] = seen
    stored = tq.kv_batch_get(
        keys=batch.keys, partition_id=batch.partition_id, select_fields=["advantages", "returns"]
    )
    return padded.batch, stored


@pytest.fixture(scope="module")
def step(workdir, cluster) -> Step:
    """The example's dense path: the execrl agent loop scores, verl's reward loop stands by."""
    return run_step(workdir, ("gae", "reinforce_plus_plus"))


@pytest.fixture(scope="module")
def scalar_step(workdir, step) -> Step:
    """The scalar path: verl's single-turn loop, its reward loop calling execrl's compute_score."""
    return run_step(
        workdir,
        ("gae",),
        "actor_rollout_ref.rollout.agent.default_agent_loop=single_turn_agent",
        f"reward.custom_reward_function.path={EXAMPLES / 'execrl_reward.py'}",
        "reward.custom_reward_function.name=compute_score",
        f"+reward.custom_reward_function.reward_kwargs.reward_config={workdir / 'reward.yaml'}",
    )


@pytest.fixture(scope="module")
def expected(step, workdir) -> list[list[float]]:
    """execrl's per-token rewards for the step's responses, computed here, outside verl."""
    formula = RewardFormula(load_config(workdir / "reward.yaml"))
    tasks = [TASKS[list(COMPLETIONS).index(marker)] for marker in step.markers]
    tokenizer = AutoTokenizer.from_pretrained(workdir / "model")
    return judge_responses(formula, tokenizer, tasks, step.response_ids).token_rewards


def reward_to_go(rewards: torch.Tensor) -> torch.Tensor:
    return rewards.flip(-1).cumsum(-1).flip(-1)


def test_every_response_was_generated_and_scored_once_by_the_execrl_agent_loop(step, expected):
    prompts = step.prompts_served
    assert sorted(m for p in prompts for m in COMPLETIONS if m in p) == sorted(
        list(COMPLETIONS) * SAMPLES_PER_PROMPT
    )
    assert sorted(step.markers) == sorted(list(COMPLETIONS) * SAMPLES_PER_PROMPT)
    for marker, extra, scores, want in zip(
        step.markers, step.stored["extra_fields"], step.stored["rm_scores"].unbind(), expected
    ):
        info = extra["reward_extra_info"]
        assert info["execrl_total"] == pytest.approx(TOTALS[marker])
        assert set(info) == {"execrl_syntax", "execrl_tests", "execrl_total"}
        # what the agent loop wrote for verl: execrl's value for each token, no more, no fewer
        assert scores.tolist() == pytest.approx(want)


def test_the_trainers_token_level_rewards_are_execrls_per_token_rewards_and_zero_on_padding(step, expected):
    padded, _ = step.advantages["gae"]
    rewards, mask = padded["token_level_rewards"], padded["response_mask"]
    lengths = [len(ids) for ids in step.response_ids]
    assert min(lengths) < rewards.shape[1] == max(lengths)  # some rows are right-padded
    for i, (n, want) in enumerate(zip(lengths, expected)):
        assert rewards[i, :n].tolist() == pytest.approx(want)
        assert torch.all(rewards[i, n:] == 0) and torch.all(mask[i, n:] == 0) and torch.all(mask[i, :n] == 1)
    assert rewards.sum(-1).tolist() == pytest.approx([TOTALS[m] for m in step.markers])
    assert torch.equal(padded["token_level_scores"], rewards)  # no KL in the reward: scores pass through


def test_a_syntax_errors_penalty_sits_on_its_lines_tokens_in_the_rewards_and_the_returns(step, workdir):
    padded, _ = step.advantages["gae"]
    tokenizer = AutoTokenizer.from_pretrained(workdir / "model")
    for i, marker in enumerate(step.markers):
        if marker != "[syntax]":
            continue
        text, offsets = offsets_for_token_ids(tokenizer, step.response_ids[i])
        start = text.index(BAD_LINE)
        # the line with its line break: "a +" is incomplete where the line ends
        line = (start, start + len(BAD_LINE) + 1)
        row = padded["token_level_rewards"][i, : len(offsets)]
        penalised = [t for t, value in enumerate(row.tolist()) if value != 0]
        assert penalised and all(offsets[t][0] < line[1] and offsets[t][1] > line[0] for t in penalised)
        # reward-to-go: every token up to the offending one carries the penalty, none after it
        returns = padded["returns"][i, : len(offsets)]
        last = max(penalised)
        assert returns[: last + 1].tolist() == pytest.approx([-1.0] * (last + 1))
        assert returns[last + 1 :].tolist() == pytest.approx([0.0] * (len(offsets) - last - 1))


def test_gae_returns_are_execrls_reward_to_go_and_advantages_the_whitened_returns_minus_values(
    step, expected
):
    padded, stored = step.advantages["gae"]  # the example's gamma = lam = 1: returns do not depend on values
    mask = padded["response_mask"].bool()
    for i, want in enumerate(expected):
        n = len(want)
        assert padded["returns"][i, :n].tolist() == pytest.approx(
            reward_to_go(torch.tensor(want)).tolist(), abs=1e-5
        )
        assert torch.all(padded["returns"][i, n:] == 0)
        assert padded["returns"][i, 0].item() == pytest.approx(TOTALS[step.markers[i]], abs=1e-5)
        assert torch.allclose(padded["values"][i, :n], step.values[i])
    raw = verl_F.masked_whiten(padded["returns"] - padded["values"], padded["response_mask"])
    assert torch.allclose(padded["advantages"][mask], raw[mask], atol=1e-5)
    # what the actor's update reads back: the valid positions only, unchanged
    for i, (adv, ret) in enumerate(zip(stored["advantages"].unbind(), stored["returns"].unbind())):
        n = len(step.response_ids[i])
        assert torch.equal(adv, padded["advantages"][i, :n]) and torch.equal(ret, padded["returns"][i, :n])


def test_reinforce_plus_plus_reads_the_same_per_token_rewards(step, expected):
    padded, _ = step.advantages["reinforce_plus_plus"]
    for i, want in enumerate(expected):
        n = len(want)
        assert padded["returns"][i, :n].tolist() == pytest.approx(
            reward_to_go(torch.tensor(want)).tolist(), abs=1e-5
        )
        assert torch.all(padded["returns"][i, n:] == 0) and torch.all(padded["advantages"][i, n:] == 0)
    whitened = verl_F.masked_whiten(padded["returns"], padded["response_mask"]) * padded["response_mask"]
    assert torch.allclose(padded["advantages"], whitened, atol=1e-5)


def agent_loop(workdir: Path, config, **changes):
    """The example's agent loop built as verl's AgentLoopWorker builds it (hydra.utils.instantiate)."""
    [entry] = OmegaConf.load(workdir / "agent_loop.yaml")
    for key, value in changes.items():
        entry[key] = value
    return hydra.utils.instantiate(
        config=entry,
        trainer_config=DictConfigWrap(config=config),
        server_manager=None,
        tokenizer=AutoTokenizer.from_pretrained(workdir / "model"),
        processor=None,
        hf_model_type=None,
        dataset_cls=RLHFDataset,
        data_config=DictConfigWrap(config.data),
        tools=ToolListWrap([]),
    )


def test_the_legacy_trainer_is_refused_because_it_keeps_one_reward_on_the_last_token(workdir):
    config = compose_config(workdir, "trainer.use_v1=false")
    with pytest.raises(hydra.errors.InstantiationException) as error:
        agent_loop(workdir, config)
    assert isinstance(error.value.__cause__, ExecrlError) and "use_v1" in str(error.value.__cause__)


def test_an_unknown_sandbox_is_refused(workdir):
    with pytest.raises(hydra.errors.InstantiationException) as error:
        agent_loop(workdir, compose_config(workdir), sandbox="docker")
    assert isinstance(error.value.__cause__, ExecrlError) and "sandbox" in str(error.value.__cause__)


def test_the_judges_ran_their_programs_in_the_workers_ray_sandbox_farm(step):
    assert step.worker_state == {
        "sandbox": "RaySandbox",
        "actors": 1,
        "scored": [len(TASKS) * SAMPLES_PER_PROMPT],
    }


def test_the_scalar_path_gives_execrls_total_on_the_last_token_only(scalar_step):
    """compute_score through verl's own reward loop: the totals survive, the per-token credit does not."""
    padded, _ = scalar_step.advantages["gae"]
    rewards = padded["token_level_rewards"]
    for i, (marker, ids) in enumerate(zip(scalar_step.markers, scalar_step.response_ids)):
        assert rewards[i, len(ids) - 1].item() == pytest.approx(TOTALS[marker])
        assert torch.count_nonzero(rewards[i]).item() == (TOTALS[marker] != 0)
        info = scalar_step.stored["extra_fields"][i]["reward_extra_info"]
        assert info["score"] == pytest.approx(TOTALS[marker]) and "execrl_tests" in info
    assert (
        scalar_step.worker_state["scored"] == []
    )  # no execrl agent loop in this run: verl's reward loop scored


def test_the_launch_script_makes_the_data_and_a_command_that_verls_config_schema_accepts(
    tmp_path, tiny_tokenizer_dir
):
    env = {
        **os.environ,
        "DRY_RUN": "1",
        "PYTHON": sys.executable,
        "DATA": str(tmp_path / "data"),
        "TRAIN_SIZE": "8",
        "EVAL_SIZE": "4",
        "NNODES": "3",
        "GPUS_PER_NODE": "4",
        "SANDBOX": "local",
    }
    done = subprocess.run(
        ["bash", str(EXAMPLES / "launch_dense.sh"), "trainer.total_epochs=2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    args = shlex.split(done.stdout.strip().splitlines()[-1])
    assert args[:3] == [sys.executable, "-m", "verl.trainer.main_ppo"]
    overrides = args[args.index("--config-name=ppo_execrl_dense") + 1 :]
    [entry] = OmegaConf.load(tmp_path / "data" / "execrl_agent_loop.yaml")
    assert (
        entry._target_ == "execrl.integrations.verl_agent_loop.ExecrlAgentLoop" and entry.sandbox == "local"
    )
    dataset = RLHFDataset(
        data_files=[str(tmp_path / "data" / "train.parquet")],
        tokenizer=AutoTokenizer.from_pretrained(tiny_tokenizer_dir),
        config=OmegaConf.create({"max_prompt_length": 1024}),
    )
    assert (
        len(dataset) == 8
        and TaskCheck.from_ground_truth(dataset[0]["reward_model"]["ground_truth"]).test_asserts
    )
    with initialize_config_dir(config_dir=str(EXAMPLES), version_base=None):
        config = compose(config_name="ppo_execrl_dense", overrides=overrides)  # unknown keys would raise
    assert (
        config.trainer.nnodes == 3
        and config.trainer.n_gpus_per_node == 4
        and config.trainer.total_epochs == 2
    )
    assert config.actor_rollout_ref.rollout.agent.agent_loop_config_path == str(
        tmp_path / "data" / "execrl_agent_loop.yaml"
    )
    assert config.actor_rollout_ref.rollout.agent.default_agent_loop == "execrl" and config.trainer.use_v1
