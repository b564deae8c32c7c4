"""verl's ``custom_reward_function`` file for execrl.

verl looks reward managers up by name in its registry; importing execrl's verl integration registers
``execrl`` there, and verl imports this file (by path) before the lookup. ``compute_score`` is the
scalar form of the same reward, for verl's function-based path.
"""

from execrl.integrations.verl import compute_score

__all__ = ["compute_score"]
