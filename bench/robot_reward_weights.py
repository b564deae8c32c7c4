"""How configs/robot.yaml's reward weights were chosen: on held-out generated robot tasks, never on RoboEval.

For held-out tasks (``generate_robot_tasks(--tasks, seed=--seed)``, a seed no training config uses,
with --states world states each), a pool of programs per task: the reference, two that do nothing
useful (``say("done")``; one ``go_to`` then ``pass``), and mutants of the reference (a statement
replaced by ``pass``, a condition negated, a string swapped for another of the program's or the
world's, two statements swapped, the body cut short), standing in for a policy's near misses.
Each program gets what training would see, the judges of configs/robot.yaml on the first 3 states
(syntax, simulator = executability, completion), and a quality it is ranked by: its completion over
all --states states, most of which the judges never saw.

For every weight pair (executability w_e, completion w_c; syntax stays 1.0) the reward is
``syntax + w_e * simulator + w_c * completion``; the criterion is the mean over tasks of Kendall's
tau-b between reward and quality within a task (the ranking among one prompt's responses is what the
advantage uses), and the constraint is that the reference beats both do-nothing programs on every
family by at least 0.5. Writes the table to docs/tasks.md under "Robot reward weights".

    python bench/robot_reward_weights.py [--tasks 96] [--states 8] [--seed 1000] [--workers N]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from itertools import product
from pathlib import Path

from _report import write_section
from scipy.stats import kendalltau

from execrl.rewards import Candidate, judge_kind
from execrl.sandbox import Sandbox, set_default_sandbox
from execrl.tasks.robot_gen import RobotTask, generate_robot_tasks

REPO = Path(__file__).resolve().parents[1]
TITLE = "Robot reward weights"
JUDGED_STATES = 3  # configs/robot.yaml's simulator and completion settings
EXEC_WEIGHTS = (0.25, 0.5, 1.0)  # both terms must be rewarded (issue 16), so w_e > 0
COMPLETION_WEIGHTS = (0.5, 1.0, 2.0, 3.0)
MARGIN = 0.5
_STRING = re.compile(r'"[^"\n]*"')


def mutants(program: str, task: RobotTask, rng: random.Random, limit: int) -> list[str]:
    lines = program.split("\n")
    body = [i for i, line in enumerate(lines) if i > 0 and line.strip()]
    simple = [i for i in body if not lines[i].rstrip().endswith(":")]
    out = []
    for i in simple:  # a statement replaced by pass
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        out.append("\n".join([*lines[:i], indent + "pass", *lines[i + 1 :]]))
    for i in body:  # a condition negated
        match = re.match(r"(\s*)(if|elif|while) (.*):\s*$", lines[i])
        if match:
            out.append("\n".join([*lines[:i], f"{match[1]}{match[2]} not ({match[3]}):", *lines[i + 1 :]]))
    world = task.states[0].state
    names = {f'"{room}"' for room in world["locations"] if room != "start_loc"}
    names |= {f'"{label}"' for labels in world["objects"].values() for label in labels if "\\" not in label}
    strings = sorted({s for line in lines for s in _STRING.findall(line)} | names)
    for i in body:  # a string swapped for another
        for literal in _STRING.findall(lines[i])[:2]:
            other = rng.choice(strings)
            if other != literal:
                out.append("\n".join([*lines[:i], lines[i].replace(literal, other, 1), *lines[i + 1 :]]))
    for i in simple:  # two neighbouring statements swapped
        if i + 1 in simple and len(lines[i]) - len(lines[i].lstrip()) == len(lines[i + 1]) - len(
            lines[i + 1].lstrip()
        ):
            out.append("\n".join([*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]]))
    for keep in (2, 3, 4):  # the body cut short
        if keep < len(body):
            cut = lines[: keep + 1]
            if cut[-1].rstrip().endswith(":"):
                cut.append(" " * (len(cut[-1]) - len(cut[-1].lstrip()) + 4) + "pass")
            out.append("\n".join(cut) + "\n")
    rng.shuffle(out)
    return [m for m in dict.fromkeys(out) if m != program][:limit]


def do_nothing(task: RobotTask) -> list[str]:
    return [
        'def task_program():\n    say("done")\n',
        "def task_program():\n    go_to(get_all_rooms()[0])\n    pass\n",
    ]


def score(tasks: list[RobotTask], states: int, rng: random.Random, limit: int) -> list[dict]:
    def build(kind: str, **settings: int):
        judge = judge_kind(kind)
        return judge.build(judge.settings(**settings))

    syntax, simulator = build("syntax"), build("simulator", states=JUDGED_STATES)
    completion, quality = build("completion", states=JUDGED_STATES), build("completion", states=states)
    rows = []
    for task in tasks:
        pool = [("reference", task.canonical_solution)] + [("do nothing", p) for p in do_nothing(task)]
        pool += [("mutant", m) for m in mutants(task.canonical_solution, task, rng, limit)]
        batch = [Candidate.from_response(program, task=task) for _, program in pool]
        columns = [judge(batch) for judge in (syntax, simulator, completion, quality)]
        for (kind, _), results in zip(pool, zip(*columns, strict=True), strict=True):
            rows.append(
                {
                    "task": task.task_id,
                    "family": task.family,
                    "kind": kind,
                    **dict(zip(("syntax", "simulator", "completion", "quality"), (r.score for r in results))),
                }
            )
    return rows


def evaluate(rows: list[dict], w_exec: float, w_comp: float) -> tuple[float, float, float]:
    """(mean within-task Kendall tau-b, smallest per-family margin of the reference over do-nothing,
    share of mutants ranked below the reference)."""
    reward = {id(r): r["syntax"] + w_exec * r["simulator"] + w_comp * r["completion"] for r in rows}
    by_task = defaultdict(list)
    for row in rows:
        by_task[row["task"]].append(row)
    taus, margins, below = [], defaultdict(list), []
    for group in by_task.values():
        qualities = [r["quality"] for r in group]
        if len(set(qualities)) > 1:
            tau = kendalltau([reward[id(r)] for r in group], qualities).statistic
            if not math.isnan(tau):  # all rewards equal gives nan
                taus.append(tau)
        best = next(reward[id(r)] for r in group if r["kind"] == "reference")
        margins[group[0]["family"]] += [best - reward[id(r)] for r in group if r["kind"] == "do nothing"]
        below += [reward[id(r)] < best for r in group if r["kind"] == "mutant" and r["quality"] < 1.0]
    return statistics.fmean(taus), min(min(m) for m in margins.values()), statistics.fmean(below)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=96)
    parser.add_argument("--states", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--mutants", type=int, default=12, help="mutants per task")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "tasks.md")
    args = parser.parse_args()
    tasks = generate_robot_tasks(args.tasks, seed=args.seed, states_per_task=args.states)
    start = time.perf_counter()
    with Sandbox(workers=args.workers) as sandbox:
        set_default_sandbox(sandbox)
        rows = score(tasks, args.states, random.Random(args.seed), args.mutants)
    elapsed = time.perf_counter() - start
    grid = {(we, wc): evaluate(rows, we, wc) for we, wc in product(EXEC_WEIGHTS, COMPLETION_WEIGHTS)}
    allowed = {key: value for key, value in grid.items() if value[1] >= MARGIN}
    chosen = max(allowed, key=lambda key: (round(allowed[key][0], 3), key[0]))
    kinds = defaultdict(list)
    for row in rows:
        kinds[row["kind"]].append(row)
    lines = [
        (
            f"Command: `python bench/robot_reward_weights.py --tasks {args.tasks} --states {args.states} "
            f"--seed {args.seed} --mutants {args.mutants}` ({len(rows)} programs on {len(tasks)} held-out tasks, "
            f"{elapsed:.0f} s, Python {sys.version.split()[0]}). Judges see the first {JUDGED_STATES} states; "
            f"quality is completion over all {args.states}."
        ),
        "",
        "| programs | n | syntax | simulator | completion | quality |",
        "|---|---|---|---|---|---|",
    ]
    for kind, group in kinds.items():
        means = [
            statistics.fmean(r[k] for r in group) for k in ("syntax", "simulator", "completion", "quality")
        ]
        lines.append(f"| {kind} | {len(group)} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    lines += [
        "",
        "| w_exec | w_completion | mean Kendall tau-b | min margin over do-nothing | failing mutants below the reference |",
        "|---|---|---|---|---|",
    ]
    for (we, wc), (tau, margin, below) in sorted(grid.items()):
        mark = " **chosen**" if (we, wc) == chosen else ""
        lines.append(f"| {we} | {wc} | {tau:.3f} | {margin:.2f} | {below:.1%} |{mark}")
    lines += [
        "",
        (
            f"Chosen: executability {chosen[0]}, completion {chosen[1]} (the highest tau among pairs whose "
            f"reference beats do-nothing by >= {MARGIN} on every family; ties to the larger executability weight)."
        ),
    ]
    body = "\n".join(lines)
    print(body)
    write_section(args.out, TITLE, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
