"""``execrl train`` with the gradient all-reduce switched off: the negative control of test_distributed."""

from __future__ import annotations

import sys

from execrl.cli import main
from execrl.rl.distributed import Ranks

Ranks.average_gradients = lambda self, params: None  # type: ignore[method-assign]

sys.exit(main())
