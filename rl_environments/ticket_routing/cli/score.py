"""``ticket-routing score``: normalized scores on the scored tasks (0 = random valid routing, 100 = the best rule)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rl_environments import TASK_IDS
from rl_environments.ticket_routing.cli.common import (
    CliError,
    add_out_option,
    add_progress_option,
    check_output_file,
    console,
    prepare_output_dir,
    progress_wanted,
)
from rl_environments.ticket_routing.policies import POLICY_NAMES

RECOMPUTE_COMMAND = "ticket-routing score --recompute-references"  # tasks.RECOMPUTE_COMMAND (tasks is imported lazily)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "score",
        help="score a trained model or a baseline on the task suite (0 = random, 100 = best rule)",
        description="Evaluate a trained model or a baseline on the scored tasks "
        f"({', '.join(TASK_IDS)}) and print each task's normalized score, "
        "100 * (R - R_random) / (R_best_rule - R_random) on the task's return, with its 95% CI over the "
        "evaluation episodes, and the interquartile mean over all tasks with a stratified-bootstrap 95% interval.",
        epilog=f"Regenerate the stored reference returns with '{RECOMPUTE_COMMAND}'.",
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="[TASK=]PATH",
        help="a trained SB3 PPO/MaskablePPO model (.zip; needs the train extra). PATH alone: scored on every "
        "selected task as its own row. TASK=PATH (repeatable): one row for a model trained per task; several "
        "paths for one task (training seeds) pool their episodes",
    )
    p.add_argument(
        "--policy",
        nargs="+",
        metavar="NAME",
        help=f"baselines to score, one row each ('all' for every one): {', '.join(POLICY_NAMES)}",
    )
    p.add_argument(
        "--task",
        nargs="+",
        metavar="ID",
        help=f"tasks to score (default: all, or those of the TASK=PATH models): {', '.join(TASK_IDS)}",
    )
    p.add_argument("--name", help="row label of the TASK=PATH models (default: the first file's name)")
    p.add_argument(
        "--episodes",
        type=int,
        metavar="N",
        help="evaluate only the first N evaluation seeds of each task (default: all of them)",
    )
    p.add_argument(
        "--references",
        metavar="FILE",
        help="reference returns to read (or, with --recompute-references, to write); default: the shipped table",
    )
    p.add_argument(
        "--recompute-references",
        action="store_true",
        help="evaluate every baseline on the tasks' evaluation seeds and store the reference returns",
    )
    p.add_argument(
        "--markdown",
        action="store_true",
        help="print the scores as a Markdown table (the leaderboard format of docs/results.md)",
    )
    add_out_option(p, "DIR", "also write scores.csv and episodes.csv here")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing import tasks

    progress = progress_wanted(args)
    if args.episodes is not None and args.episodes < 1:
        raise CliError(f"--episodes: invalid value {args.episodes}; must be >= 1")
    task_ids = _check_tasks(args.task)
    if args.recompute_references:
        if args.model or args.policy:
            raise CliError("--recompute-references evaluates every baseline; it takes no --model or --policy")
        return _recompute(args, task_ids, progress)
    entries = _entries(args, task_ids)
    if not entries:
        raise CliError("give --model PATH or --policy NAME (or --recompute-references)")
    references = tasks.load_references(args.references)
    if args.out:
        prepare_output_dir(args.out, "--out")  # before the work
    reports = [
        tasks.score(spec, ids, args.episodes, name=name, references=references, progress=progress)
        for name, spec, ids in entries
    ]
    out = console()
    if args.markdown:
        sys.stdout.write(markdown_table(reports) + "\n")
    else:
        out.print(score_table(reports, references))
    if args.out:
        import pandas as pd

        directory = Path(args.out)
        pd.concat([r.to_frame() for r in reports], ignore_index=True).to_csv(directory / "scores.csv", index=False)
        pd.concat([r.episodes for r in reports], ignore_index=True).to_csv(directory / "episodes.csv", index=False)
        out.print(f"wrote {directory / 'scores.csv'} and {directory / 'episodes.csv'}")
    return 0


def _check_tasks(task_ids: list[str] | None) -> list[str] | None:
    from rl_environments.ticket_routing.tasks import get_task

    if task_ids is None:
        return None
    for task_id in task_ids:
        try:
            get_task(task_id)
        except ValueError as exc:
            raise CliError(f"--task: {exc}") from None
    return list(dict.fromkeys(task_ids))


def _entries(args: argparse.Namespace, task_ids: list[str] | None) -> list[tuple[str | None, Any, list[str] | None]]:
    """(row label, policy spec, tasks) for every row to score."""
    from rl_environments.ticket_routing.tasks import TASKS

    entries: list[tuple[str | None, Any, list[str] | None]] = []
    per_task: dict[str, list[str]] = {}
    for value in args.model or []:
        task_id, sep, path = str(value).partition("=")
        if sep and task_id in TASKS:
            per_task.setdefault(task_id, []).append(path)
        elif sep and task_id.startswith("TicketRouting-"):
            raise CliError(f"--model: unknown task id {task_id!r}; known tasks: {', '.join(TASKS)}")
        else:
            entries.append((None, value, task_ids))
    if per_task:
        if task_ids is not None:
            missing = [t for t in task_ids if t not in per_task]
            if missing:
                raise CliError(f"--task {missing[0]}: no --model {missing[0]}=PATH given")
        entries.append((args.name, per_task, task_ids))
    names = list(POLICY_NAMES) if args.policy and "all" in args.policy else list(args.policy or [])
    for name in names:
        if name not in POLICY_NAMES:
            raise CliError(f"--policy: unknown policy {name!r}; known policies: {', '.join(POLICY_NAMES)}, all")
        entries.append((None, name, task_ids))
    return entries


def task_cell(task_score: Any) -> str:
    """``"87.3 ± 6.2"`` (mean ± 95% CI half-width), the mean alone without an interval, ``-`` if not scored."""
    from rl_environments.ticket_routing.tasks import format_score

    if task_score is None:
        return "-"
    if task_score.ci95_high == task_score.ci95_high:
        return f"{format_score(task_score.mean)} ± {(task_score.ci95_high - task_score.ci95_low) / 2:.1f}"
    return format_score(task_score.mean)


def score_table(reports: list[Any], references: Any) -> Any:
    """A rich table: one row per scored policy, each task's score (mean ± 95% CI half-width) and the IQM."""
    from rich.table import Table

    from rl_environments.ticket_routing.tasks import format_interval

    shown = [t for t in TASK_IDS if any(t in {s.task_id for s in r.tasks} for r in reports)]
    runs = sorted({s.n for r in reports for s in r.tasks})
    table = Table(
        title=f"Score (0 = random, 100 = best rule): mean ± 95% CI over {'/'.join(map(str, runs))} runs per task; "
        "IQM [stratified-bootstrap 95% CI]",
        title_justify="left",
    )
    table.add_column("policy", style="bold")
    for task_id in shown:
        table.add_column(task_id, justify="right")
    table.add_column("IQM", justify="right")
    for report in reports:
        cells = [report.name]
        scored = {s.task_id: s for s in report.tasks}
        cells.extend(task_cell(scored.get(task_id)) for task_id in shown)
        cells.append(format_interval(report.iqm, report.iqm_low, report.iqm_high))
        table.add_row(*cells)
    notes = [
        f"{task_id}: random {references[task_id].random_return:.1f}, best rule "
        f"{references[task_id].best_rule} {references[task_id].best_return:.1f} (mean returns)"
        for task_id in shown
    ]
    table.caption = "\n".join(notes)
    table.caption_justify = "left"
    return table


def markdown_table(reports: list[Any]) -> str:
    """The scores as a Markdown table: one row per policy, each task's mean ± 95% CI half-width, the IQM [95% CI]."""
    from rl_environments.ticket_routing.tasks import format_interval

    shown = [t for t in TASK_IDS if any(t in {s.task_id for s in r.tasks} for r in reports)]
    names = [t.removeprefix("TicketRouting-").removesuffix("-v0") for t in shown]
    lines = ["| policy | " + " | ".join(names) + " | IQM [95% CI] |", "|---" * (len(shown) + 2) + "|"]
    for report in reports:
        scored = {s.task_id: s for s in report.tasks}
        numbers = [task_cell(scored.get(task_id)) for task_id in shown]
        numbers.append(format_interval(report.iqm, report.iqm_low, report.iqm_high))
        lines.append("| " + " | ".join([report.name, *(n.replace("-", "−") for n in numbers)]) + " |")
    return "\n".join(lines)


def _recompute(args: argparse.Namespace, task_ids: list[str] | None, progress: bool) -> int:
    from rich.table import Table

    from rl_environments.ticket_routing.tasks import compute_references, write_references

    if args.references:
        check_output_file(args.references, "--references")
    references = compute_references(task_ids, num_seeds=args.episodes, progress=progress)
    path = write_references(references, args.references)
    table = Table(title="Mean episode return of every baseline on each task's evaluation seeds", title_justify="left")
    table.add_column("policy", style="bold")
    for task_id in references:
        table.add_column(task_id, justify="right")
    for name in POLICY_NAMES:
        table.add_row(name, *(f"{ref.returns[name]:.1f}" for ref in references.values()))
    table.add_row("best rule", *(ref.best_rule for ref in references.values()))
    out = console()
    out.print(table)
    out.print(f"wrote {path}")
    return 0
