"""Reinforcement learning with dense token-level rewards: PPO and critic-free estimators, the loop, checkpoints."""

from execrl.rl.config import TrainConfig, load_config, parse_config
from execrl.rl.estimators import (
    ESTIMATORS,
    AdvantageInput,
    Advantages,
    estimate,
    get_estimator,
    register_estimator,
)
from execrl.rl.trainer import RunSummary, Trainer, train

__all__ = [
    "ESTIMATORS",
    "AdvantageInput",
    "Advantages",
    "RunSummary",
    "TrainConfig",
    "Trainer",
    "estimate",
    "get_estimator",
    "load_config",
    "parse_config",
    "register_estimator",
    "train",
]
