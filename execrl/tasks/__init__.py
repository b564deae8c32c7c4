"""Task records and the loaders of the benchmark data sets (MBPP, sanitized MBPP, MBPP+)."""

from execrl.tasks.mbpp import MBPP_SPLITS, load_mbpp, load_sanitized_mbpp
from execrl.tasks.mbppplus import MbppPlusDataset, load_mbppplus
from execrl.tasks.types import PlusTask, Task

__all__ = [
    "MBPP_SPLITS",
    "MbppPlusDataset",
    "PlusTask",
    "Task",
    "load_mbpp",
    "load_mbppplus",
    "load_sanitized_mbpp",
]
