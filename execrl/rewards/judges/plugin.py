"""The plugin judge: any user function ``module:function`` with the judge interface.

The function takes the batch (a sequence of ``Candidate``) and returns one ``JudgeResult`` per
candidate; its score convention is its own, so the settings say which score is its worst
(``failure_score``): a response the function raises on, or returns a bad result for, gets that score
with a ``judge-error`` finding (``RewardFormula`` judges such a batch again one response at a time).
Import problems are reported when the config is loaded; a function that fails on every response of a
batch and on a trivial program is broken, and scoring raises an ``ExecrlError`` naming the plugin.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from pydantic import Field

from execrl.errors import ExecrlError
from execrl.records import JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, register_judge


class PluginSettings(JudgeSettings):
    callable: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$",
        description="module:function, e.g. mypkg.judges:docstring_judge",
    )
    # The score of a response the function fails on: give your scale's worst (0.0 suits [0, 1] scores;
    # a penalty scale such as [-1, 0] needs -1, or a crash would score like a clean response).
    failure_score: float = Field(0.0, allow_inf_nan=False)


def load_callable(reference: str) -> Callable[..., object]:
    """The object named by ``module:attribute`` (attribute may be dotted); ExecrlError if there is none."""
    module_name, _, attribute = reference.partition(":")
    try:
        target: object = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is a configuration problem
        raise ExecrlError(
            f"plugin {reference!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc}); "
            "check the name and that it is importable (installed, or on PYTHONPATH)"
        ) from exc
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ExecrlError(f"plugin {reference!r}: module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ExecrlError(f"plugin {reference!r}: {attribute!r} is a {type(target).__name__}, not a callable")
    return target


@register_judge("plugin", PluginSettings)
class PluginJudge:
    def __init__(self, settings: PluginSettings) -> None:
        self.reference = settings.callable
        self.function = load_callable(settings.callable)
        self.failure_score = settings.failure_score

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        try:
            return list(self.function(batch))
        except ExecrlError:
            raise
        except Exception as exc:
            raise ExecrlError(f"plugin judge {self.reference!r} raised {type(exc).__name__}: {exc}") from exc
