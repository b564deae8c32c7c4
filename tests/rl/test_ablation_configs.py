"""The experiment-1 configs (docs/ablation_setup.md): valid, and the arms differ only in their credit mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from execrl.rewards.config import load_config as load_reward_config
from execrl.rl.config import load_config
from execrl.rl.sft import load_sft_config

ROOT = Path(__file__).resolve().parents[2]
ABLATION = ROOT / "configs" / "ablation"
CREDIT = {
    "terminal": {"syntax": "terminal", "tests": "terminal", "style": "terminal", "security": "terminal"},
    "uniform": {"syntax": "uniform", "tests": "uniform", "style": "uniform", "security": "uniform"},
    "mixed": {"syntax": "localized", "tests": "uniform", "style": "localized", "security": "localized"},
}


@pytest.mark.parametrize("arm", sorted(CREDIT))
def test_arms_share_judges_and_weights_and_differ_in_credit_only(arm: str) -> None:
    default = load_reward_config(ROOT / "configs" / "reward_default.yaml")
    config = load_reward_config(ABLATION / f"reward_{arm}.yaml")
    assert {name: judge.credit for name, judge in config.judges.items()} == CREDIT[arm]
    strip = {"judges": {name: {"credit"} for name in config.judges}}
    assert config.model_dump(exclude=strip) == default.model_dump(exclude=strip)


def test_sft_and_ppo_configs_fit_together() -> None:
    sft = load_sft_config(ABLATION / "tiny_sft.yaml")
    ppo = load_config(ROOT / sft.train_config)
    assert ppo.model.name == sft.output_dir
    assert ppo.tasks.source == "builtin"
    assert "\n```" in ppo.generation.stop_strings


def test_sweep_arms_name_existing_reward_configs() -> None:
    sweep = yaml.safe_load((ROOT / "sweeps" / "mapping_ablation.yaml").read_text())
    assert (ROOT / sweep["base"]).is_file()
    assert set(sweep["arms"]) == set(CREDIT) and sweep["baseline"] in sweep["arms"]
    for arm, overrides in sweep["arms"].items():
        assert overrides["reward_config"] == f"configs/ablation/reward_{arm}.yaml"
