"""Token-level credit: turn judges' rewards and located findings into per-token rewards.

Pure functions over ``execrl.records``; nothing else of execrl is imported, so the trainer, the
CLI and tests can use them without pulling in judges, models or the sandbox.
"""

from execrl.credit.offsets import SlowTokenizerError, offsets_for_token_ids, token_offsets
from execrl.credit.strategies import (
    STRATEGIES,
    CreditPart,
    assign,
    combine,
    get_strategy,
    register_strategy,
)

__all__ = [
    "STRATEGIES",
    "CreditPart",
    "SlowTokenizerError",
    "assign",
    "combine",
    "get_strategy",
    "offsets_for_token_ids",
    "register_strategy",
    "token_offsets",
]
