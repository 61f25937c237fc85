"""The score of a policy on the tasks: per-task means with intervals and their IQM over tasks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rl_environments.ticket_routing.evaluation import evaluate
from rl_environments.ticket_routing.policies import POLICY_NAMES, Policy
from rl_environments.ticket_routing.statistics import BOOTSTRAP_RESAMPLES, iqm_interval, mean_ci95
from rl_environments.ticket_routing.tasks.references import (
    RECOMPUTE_COMMAND,
    Reference,
    StaleReferencesError,
    load_references,
)
from rl_environments.ticket_routing.tasks.registry import (
    TASKS,
    Task,
    UnknownTaskError,
    check_count,
    get_task,
    resolve_task_ids,
)

DEFAULT_RESAMPLES = BOOTSTRAP_RESAMPLES
"""Bootstrap resamples of the aggregate's interval."""

PolicyInput = str | Path | Policy
"""A baseline name, the path of a trained SB3 model (``.zip``), or a policy object."""


# --------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class TaskScore:
    """A policy's normalized score on one task: mean and 95% CI (Student's t) over its runs."""

    task_id: str
    mean: float
    ci95_low: float
    ci95_high: float
    mean_return: float
    scores: tuple[float, ...]
    """The score of every run (evaluation episode; with several models, every model's episodes)."""

    @property
    def n(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class ScoreReport:
    """Per-task scores of one policy and their aggregate (IQM with a stratified-bootstrap 95% interval)."""

    name: str
    tasks: tuple[TaskScore, ...]
    iqm: float
    iqm_low: float
    iqm_high: float
    episodes: pd.DataFrame = field(repr=False, compare=False)
    """One row per run: ``task``, ``policy`` (the report's name), ``model`` (index of the policy or model
    among those pooled for the task), ``episode``, ``seed``, ``episode_return``, ``score``."""

    def task(self, task_id: str) -> TaskScore:
        for item in self.tasks:
            if item.task_id == task_id:
                return item
        raise UnknownTaskError(f"task: {task_id!r} was not scored; scored: {', '.join(t.task_id for t in self.tasks)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per task and one for the aggregate (``task == "IQM"``)."""
        rows: list[dict[str, Any]] = [
            {
                "name": self.name,
                "task": t.task_id,
                "score": t.mean,
                "ci95_low": t.ci95_low,
                "ci95_high": t.ci95_high,
                "n": t.n,
                "mean_return": t.mean_return,
            }
            for t in self.tasks
        ]
        rows.append(
            {
                "name": self.name,
                "task": "IQM",
                "score": self.iqm,
                "ci95_low": self.iqm_low,
                "ci95_high": self.iqm_high,
                "n": sum(t.n for t in self.tasks),
                "mean_return": math.nan,
            }
        )
        frame: pd.DataFrame = pd.DataFrame(rows)
        return frame

    def __str__(self) -> str:
        lines = [f"{self.name}:"]
        for t in self.tasks:
            lines.append(f"  {t.task_id:<30} {format_interval(t.mean, t.ci95_low, t.ci95_high)}  (n={t.n})")
        lines.append(f"  {'IQM':<30} {format_interval(self.iqm, self.iqm_low, self.iqm_high)}")
        return "\n".join(lines)


def format_score(value: float) -> str:
    """One decimal, without a minus sign on a value that rounds to zero."""
    return f"{round(value, 1) + 0.0:.1f}"


def format_interval(mean: float, low: float, high: float) -> str:
    """``"87.3 [81.0, 93.6]"`` (just the mean when there is no interval)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return format_score(mean)
    return f"{format_score(mean)} [{format_score(low)}, {format_score(high)}]"


PolicySpec = PolicyInput | Sequence[PolicyInput] | Mapping[str, PolicyInput | Sequence[PolicyInput]]


def _entries(spec: PolicyInput | Sequence[PolicyInput]) -> list[PolicyInput]:
    if isinstance(spec, (str, Path)) or not isinstance(spec, Sequence):
        return [_check_item(spec)]
    items = [_check_item(item) for item in spec]
    if not items:
        raise ValueError("policy: expected at least one policy or model per task")
    return items


def _check_item(item: object) -> PolicyInput:
    if not isinstance(item, (str, Path, Policy)):
        raise ValueError(f"policy: invalid value {item!r}; expected a baseline name, a model path or a policy object")
    return item


def _default_name(item: PolicyInput) -> str:
    if isinstance(item, str) and item in POLICY_NAMES:
        return item
    if isinstance(item, (str, Path)):
        return Path(item).name
    return str(item.name)


def resolve_policy(item: PolicyInput, task: Task) -> str | Policy:
    """A baseline name or a policy object for ``task``: model paths are loaded (SB3, train extra)."""
    item = _check_item(item)
    if isinstance(item, str) and item in POLICY_NAMES:
        return item
    if isinstance(item, (str, Path)):
        path = Path(item)
        if path.suffix != ".zip" and not path.exists():
            raise ValueError(
                f"policy: {str(item)!r} is neither a baseline ({', '.join(POLICY_NAMES)}) nor a model file (.zip)"
            )
        try:
            from rl_environments.ticket_routing.sb3 import SB3Policy
        except ImportError as exc:  # pragma: no cover - the test environment has the train extra
            raise ValueError(f"model: needs the train extra (pip install 'rl-environments[train]'): {exc}") from None
        policy = SB3Policy(path)  # a bad or missing file fails here, naming the file
        try:
            policy.check_config(task.config())
        except ValueError as exc:
            raise ValueError(
                f"{task.id}: {exc} (score a model on the tasks it fits: task_ids / --task, or one model per task)"
            ) from None
        return policy
    return item


def score(
    policy: PolicySpec,
    task_ids: Sequence[str] | str | None = None,
    episodes: int | None = None,
    *,
    name: str | None = None,
    references: Mapping[str, Reference] | str | Path | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    progress: bool = False,
) -> ScoreReport:
    """Score ``policy`` on tasks (default: every task) against the stored references.

    ``policy`` is a baseline name, the path of a trained Stable-Baselines3 model, a policy object,
    a list of those (several training seeds of one method: all their episodes are the task's
    runs), or a mapping from task id to any of these (a model trained per task; the tasks scored
    are then the mapping's keys unless ``task_ids`` says otherwise). ``episodes`` evaluates only
    the first evaluation seeds of each task (a quick look; the full score uses all of them).
    """
    if isinstance(policy, Mapping):
        unknown = [str(k) for k in policy if k not in TASKS]
        if unknown:
            get_task(unknown[0])
        ids = resolve_task_ids(task_ids if task_ids is not None else list(policy))
        missing = [task_id for task_id in ids if task_id not in policy]
        if missing:
            raise ValueError(f"policy: no policy or model for task {missing[0]}")
        per_task = {task_id: _entries(policy[task_id]) for task_id in ids}
    else:
        ids = resolve_task_ids(task_ids)
        items = _entries(policy)
        per_task = {task_id: items for task_id in ids}
    first = per_task[ids[0]][0]
    label = name if name is not None else _default_name(first)
    refs = load_references(references) if references is None or isinstance(references, (str, Path)) else references
    rows: list[pd.DataFrame] = []
    task_scores: list[TaskScore] = []
    for task_id in ids:
        task = get_task(task_id)
        if task_id not in refs:
            raise StaleReferencesError(f"references: no entry for {task_id}; create it with '{RECOMPUTE_COMMAND}'")
        reference = refs[task_id]
        reference.check(task)
        n = task.num_seeds if episodes is None else check_count("episodes", episodes)
        if n > task.num_seeds:
            raise ValueError(f"episodes: invalid value {n}; {task_id} has {task.num_seeds} evaluation seeds")
        config = task.config()
        frames = []
        for k, item in enumerate(per_task[task_id]):
            resolved = resolve_policy(item, task)
            df = evaluate(resolved, config, n, task.first_seed, batch_size=n, progress=progress)
            frame = df[["episode", "seed", "episode_return"]].copy()
            frame.insert(0, "model", k)
            frames.append(frame)
        part = pd.concat(frames, ignore_index=True)
        part.insert(0, "task", task_id)
        part.insert(1, "policy", label)
        part["score"] = reference.normalize(part["episode_return"].to_numpy())
        rows.append(part)
        mean, low, high, _ = mean_ci95(part["score"].to_numpy())
        task_scores.append(
            TaskScore(task_id, mean, low, high, float(part["episode_return"].mean()), tuple(part["score"].tolist()))
        )
    point, low, high = iqm_interval([t.scores for t in task_scores], n_resamples=n_resamples)
    return ScoreReport(label, tuple(task_scores), point, low, high, pd.concat(rows, ignore_index=True))


__all__ = [
    "DEFAULT_RESAMPLES",
    "PolicyInput",
    "PolicySpec",
    "ScoreReport",
    "TaskScore",
    "format_interval",
    "format_score",
    "resolve_policy",
    "score",
]
