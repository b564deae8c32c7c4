"""Judges of generated code (syntax, tests, style, security, plugins) and the weighted reward formula.

A judge scores a batch of ``Candidate``s and locates its findings as character spans of each
response; ``RewardFormula`` weights, normalises and clips the judges' scores and, with the token
offsets of a tokenizer, spreads them over tokens through ``execrl.credit``. See docs/rewards.md.
"""

from execrl.rewards.base import (
    Candidate,
    Judge,
    JudgeKind,
    JudgeSettings,
    judge_kind,
    judge_kinds,
    register_judge,
)
from execrl.rewards.config import DEFAULT_CONFIG_YAML, JudgeConfig, RewardConfig, load_config, parse_config
from execrl.rewards.extract import ExtractedCode, extract_code
from execrl.rewards.formula import BatchRewards, ComponentReward, RewardBreakdown, RewardFormula, RunningStats

__all__ = [
    "DEFAULT_CONFIG_YAML",
    "BatchRewards",
    "Candidate",
    "ComponentReward",
    "ExtractedCode",
    "Judge",
    "JudgeConfig",
    "JudgeKind",
    "JudgeSettings",
    "RewardBreakdown",
    "RewardConfig",
    "RewardFormula",
    "RunningStats",
    "extract_code",
    "judge_kind",
    "judge_kinds",
    "load_config",
    "parse_config",
    "register_judge",
]
