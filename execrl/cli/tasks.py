"""``execrl tasks``: generate reusable training-task files (robot errands, built-in Python problems)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tasks",
        help="generate training tasks (robot errands, built-in Python problems)",
        description="Generate a task file (JSON lines) that training configs can point at.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    robot = kinds.add_parser(
        "robot",
        help="robot instructions with world states, decontaminated against RoboEval",
        description="Generate robot training tasks and drop any whose word 3-grams overlap a RoboEval prompt "
        "too much; prints the overlap report.",
    )
    robot.add_argument("--n", type=int, default=5000, help="tasks to write (default 5000)")
    robot.add_argument("--seed", type=int, default=0)
    robot.add_argument("--states", type=int, default=4, help="world states per task (default 4)")
    robot.add_argument("--out", required=True, metavar="F.jsonl")
    robot.add_argument("--data-dir", help="benchmark data directory (default $EXECRL_DATA_DIR)")
    robot.add_argument(
        "--max-overlap", type=float, default=None,
        help="exclude instructions whose 3-gram overlap coefficient with a RoboEval prompt exceeds this "
        "(default 0.4)",
    )
    robot.set_defaults(func=run_robot)

    python = kinds.add_parser(
        "python",
        help="built-in Python function-writing problems with assert tests",
        description="Generate built-in Python tasks (string, list, arithmetic, dict families).",
    )
    python.add_argument("--n", type=int, default=1000, help="tasks to write (default 1000)")
    python.add_argument("--seed", type=int, default=0)
    python.add_argument("--levels", default="1,2,3", help="difficulty levels, comma-separated (default 1,2,3)")
    python.add_argument("--split", choices=("train", "heldout"), default="train")
    python.add_argument("--out", required=True, metavar="F.jsonl")
    python.set_defaults(func=run_python)


def _check_count(n: int) -> None:
    from execrl.errors import ExecrlError

    if n < 1:
        raise ExecrlError(f"--n must be at least 1, got {n}")


def run_robot(args: argparse.Namespace) -> int:
    from execrl.tasks.decontam import DEFAULT_MAX_OVERLAP, NgramIndex, decontaminate, load_roboeval_prompts
    from execrl.tasks.robot_gen import generate_robot_tasks
    from execrl.tasks.task_file import write_tasks

    _check_count(args.n)
    threshold = DEFAULT_MAX_OVERLAP if args.max_overlap is None else args.max_overlap
    index = NgramIndex(load_roboeval_prompts(args.data_dir))
    kept: list = []
    reports = []
    seed_offset = 0
    # Top up after exclusions with tasks from further seeds, so the file holds --n tasks.
    while len(kept) < args.n:
        batch = generate_robot_tasks(args.n - len(kept), seed=args.seed + seed_offset, states_per_task=args.states)
        seen = {task.prompt for task in kept}
        batch = [task for task in batch if task.prompt not in seen]
        keep, report = decontaminate([task.prompt for task in batch], index, threshold)
        reports.append(report)
        kept.extend(task for task, ok in zip(batch, keep) if ok)
        seed_offset += 1_000_003
        if report.excluded == report.count:
            break
    written = write_tasks(args.out, kept[: args.n])
    print(reports[0].render())
    if len(reports) > 1:
        extra = sum(r.count for r in reports[1:])
        print(f"  topped up with {extra} more tasks to replace exclusions "
              f"({sum(r.excluded for r in reports[1:])} of those excluded too)")
    print(f"wrote {written} robot tasks to {args.out}")
    return 0


def run_python(args: argparse.Namespace) -> int:
    from execrl.errors import ExecrlError
    from execrl.tasks.builtin import generate_python_tasks
    from execrl.tasks.task_file import write_tasks

    _check_count(args.n)
    try:
        levels = [int(level) for level in args.levels.split(",") if level.strip()]
    except ValueError:
        raise ExecrlError(f"--levels: expected comma-separated integers such as 1,2,3, got {args.levels!r}") from None
    tasks = generate_python_tasks(args.n, seed=args.seed, levels=levels, split=args.split)
    written = write_tasks(args.out, tasks)
    print(f"wrote {written} {args.split} Python tasks (levels {','.join(map(str, levels))}) to {args.out}")
    return 0
