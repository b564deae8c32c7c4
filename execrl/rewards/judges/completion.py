"""The completion judge: did the robot program do the errand, not only run?

Score: the share of the first ``states`` world states of the candidate's :class:`RobotTask` whose
completion checks the program's trace meets (``WorldState.checks``, written by each task family:
``execrl.tasks.robot_gen.completion``). A state counts only if the run also ended as it should (no
crash, no timeout unless the state expects one), so the score lies in ``[0, 1]`` and a program that
does nothing useful scores 0 where the simulator judge gives it full marks.

Findings carry one unit of severity per failed state, split over what failed there:

* an unmet check is located on the program line of the step it blames (a wrong ``say``, a ``go_to``
  to a room the errand does not need, a second ``pick``...) when the simulator recorded that line,
  else on all the code (a missing action has no line). The line comes from the program's process
  with the call, so it is a hint: a wrong one misplaces only this program's finding, never its score;
* a crash is located on its line, an unexpected timeout on all the code;
* a state without checks (a task file written before they existed) fails on all the code with the
  rule ``no-completion-checks``: regenerate the file with ``execrl tasks robot``.

The settings are the simulator judge's, and the runs are shared with it when both are in a formula.
"""

from __future__ import annotations

from execrl.records import Finding, JudgeResult
from execrl.rewards.base import register_judge
from execrl.rewards.extract import ExtractedCode
from execrl.rewards.judges.simulator import RobotPlan, SimulatorJudge, SimulatorSettings, line_span
from execrl.robot.outcome import COMPLETION_ERROR, judge_requirements


class CompletionSettings(SimulatorSettings):
    pass


@register_judge("completion", CompletionSettings)
class CompletionJudge(SimulatorJudge):
    @staticmethod
    def verdict(extracted: ExtractedCode, plan: RobotPlan) -> JudgeResult:
        return _verdict(extracted, plan)


def _verdict(extracted: ExtractedCode, plan: RobotPlan) -> JudgeResult:
    completed = 0
    severity: dict[tuple[int, int, str, str], float] = {}
    for world, run in zip(plan.states, plan.runs, strict=True):
        outcome = judge_requirements(run, world.timeout_expected, world.checks)
        if outcome.completed:
            completed += 1
            continue
        if not world.checks:
            problems = [(None, "no-completion-checks", "the task's world state has no completion checks")]
        elif not outcome.ran:
            problems = [(outcome.error_line, outcome.category, outcome.error or "the run failed")]
        else:
            problems = [
                (
                    getattr(requirement.culprit(run.trace), "line", None),
                    COMPLETION_ERROR,
                    requirement.describe(),
                )
                for requirement in outcome.unmet
            ]
        for line, rule, message in problems:
            start, end = line_span(extracted, plan.program, line)
            key = (start, end, rule, message)
            # The same failure on several states is one finding whose severity counts them.
            severity[key] = severity.get(key, 0.0) + 1.0 / len(problems)
    findings = tuple(
        Finding(start, end, weight, rule, message) for (start, end, rule, message), weight in severity.items()
    )
    return JudgeResult(completed / len(plan.states), findings)
