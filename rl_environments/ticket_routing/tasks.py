"""Scored tasks: fixed scenarios with a fixed objective and held-out evaluation seeds, and a normalized score.

A task fixes everything that decides a number on a leaderboard: the scenario (a shipped preset),
the objective (the reward), the episode length and the evaluation seeds. Each is registered with
Gymnasium, so ``gymnasium.make(task_id)`` gives the task's environment.

| id                             | scenario       | objective        | decisions | evaluation seeds |
|--------------------------------|----------------|------------------|-----------|------------------|
| `TicketRouting-Balanced-v0`    | `balanced`     | `resolution_sla` | 1500      | 100000..100019   |
| `TicketRouting-Hard-v0`        | `hard`         | `resolution_sla` | 1500      | 100000..100019   |
| `TicketRouting-ServiceDesk-v0` | `service_desk` | `resolution_sla` | 1855      | 100000..100019   |

The score of a policy on a task is its episode return ``R`` (under the task's objective) on the
task's evaluation seeds, normalized so that uniformly random valid routing scores 0 and the best
baseline rule on that task scores 100::

    score = 100 * (R - R_random) / (R_best_rule - R_random)

``R_random`` and ``R_best_rule`` are the mean returns over the same seeds, stored in
``config/task_references.yaml`` with the command that regenerates them
(:data:`RECOMPUTE_COMMAND`). Scores above 100 beat every rule. The aggregate over tasks is the
interquartile mean (IQM) of all per-episode scores with a stratified-bootstrap 95% interval
(episodes resampled within each task), as recommended by Agarwal et al., "Deep Reinforcement
Learning at the Edge of the Statistical Precipice" (NeurIPS 2021).

>>> get_task("TicketRouting-Hard-v0").config_name
'hard+resolution_sla'
>>> float(normalize(5.0, random_return=0.0, best_return=10.0))
50.0
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from rl_environments.ticket_routing.core import safe_yaml
from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.core.environment import CONFIG_FIELDS, TicketRoutingEnv
from rl_environments.ticket_routing.core.vector_env import TicketRoutingVectorEnv
from rl_environments.ticket_routing.evaluation import evaluate, mean_ci95
from rl_environments.ticket_routing.policies import POLICY_NAMES, Policy

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

RANDOM_POLICY = "random"
"""The baseline that anchors a score of 0: a uniformly random agent among those that can take the ticket."""

REFERENCES_PATH = Path(__file__).resolve().parent / "config" / "task_references.yaml"
"""The shipped reference returns of every task."""

RECOMPUTE_COMMAND = "ticket-routing score --recompute-references"
"""The command that regenerates :data:`REFERENCES_PATH`."""

DEFAULT_RESAMPLES = 2000
"""Bootstrap resamples of the aggregate's interval."""

PolicyInput = str | Path | Policy
"""A baseline name, the path of a trained SB3 model (``.zip``), or a policy object."""


class UnknownTaskError(ValueError):
    """A task id that is not registered."""


class StaleReferencesError(ValueError):
    """The stored reference returns do not belong to the task as it is defined now."""


@dataclass(frozen=True)
class Task:
    """One scored task: scenario, objective, episode length and evaluation seeds."""

    id: str
    """The Gymnasium id."""
    scenario: str
    """A shipped preset (``EnvironmentConfig.preset_names()``)."""
    objective: str
    """A shipped objective (the reward section), applied with ``EnvironmentConfig.with_objective``."""
    episode_length: int
    """Routing decisions per episode."""
    first_seed: int = 100_000
    """Environment seed of the first evaluation episode (held out: training should not use it)."""
    num_seeds: int = 20
    """Evaluation episodes; episode ``k`` uses environment seed ``first_seed + k``."""
    summary: str = ""
    """What the scenario is, in a line."""

    @property
    def seeds(self) -> range:
        """The evaluation seeds."""
        return range(self.first_seed, self.first_seed + self.num_seeds)

    @property
    def config_name(self) -> str:
        """The task's configuration as a ``config=`` string (``"preset+objective"``)."""
        return f"{self.scenario}+{self.objective}"

    def config(self) -> EnvironmentConfig:
        """The task's :class:`EnvironmentConfig`."""
        base = EnvironmentConfig.preset(self.scenario).with_objective(self.objective)
        return base.replace(episode_length=self.episode_length)

    def make_env(self, **kwargs: Any) -> TicketRoutingEnv:
        """The task's environment; ``kwargs`` are environment arguments (``render_mode``,
        ``observation_layout``, ...), never configuration changes."""
        return TicketRoutingEnv(self.config(), **self._env_kwargs(kwargs))

    def make_vec_env(self, num_envs: int = 1, **kwargs: Any) -> TicketRoutingVectorEnv:
        """``num_envs`` copies of the task's environment in one :class:`TicketRoutingVectorEnv`."""
        return TicketRoutingVectorEnv(num_envs, self.config(), **self._env_kwargs(kwargs))

    def _env_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        out = dict(kwargs)
        steps = out.pop("max_episode_steps", None)
        if steps is not None and steps != self.episode_length:
            raise ValueError(
                f"max_episode_steps: invalid value {steps!r}; {self.id} fixes the episode length at "
                f"{self.episode_length}"
            )
        for key in out:
            if key in CONFIG_FIELDS or key in ("config", "trace"):
                raise ValueError(
                    f"{key}: {self.id} fixes the scenario, objective and episode length, so {key!r} cannot be "
                    f"changed; for a variant use gymnasium.make('TicketRouting-v0', config=..., {key}=...)"
                )
        return out


TASKS: dict[str, Task] = {
    task.id: task
    for task in (
        Task(
            "TicketRouting-Balanced-v0",
            "balanced",
            "resolution_sla",
            1500,
            summary="the default team of 14 agents on weekday shifts, about 35 tickets a weekday",
        ),
        Task(
            "TicketRouting-Hard-v0",
            "hard",
            "resolution_sla",
            1500,
            summary="a busier week, a less versatile team and heavy-tailed (lognormal) work",
        ),
        Task(
            "TicketRouting-ServiceDesk-v0",
            "service_desk",
            "resolution_sla",
            1855,
            summary="an IT service desk fitted from a real incident log: 100 agents, about 265 tickets a day",
        ),
    )
}
"""Every task, by id."""

TASK_IDS: tuple[str, ...] = tuple(TASKS)
"""The task ids, in the order of reports."""


def get_task(task_id: str) -> Task:
    """The task registered as ``task_id``."""
    task = TASKS.get(task_id)
    if task is None:
        raise UnknownTaskError(f"task: unknown task id {task_id!r}; known tasks: {', '.join(TASK_IDS)}")
    return task


def _task_ids(task_ids: Sequence[str] | str | None) -> list[str]:
    if task_ids is None:
        return list(TASK_IDS)
    ids = [task_ids] if isinstance(task_ids, str) else list(task_ids)
    if not ids:
        raise UnknownTaskError(f"task_ids: expected at least one task id; known tasks: {', '.join(TASK_IDS)}")
    for task_id in ids:
        get_task(task_id)
    return list(dict.fromkeys(ids))


def make_env(task_id: str, **kwargs: Any) -> TicketRoutingEnv:
    """Gymnasium entry point of the task ids: the environment of task ``task_id``."""
    return get_task(task_id).make_env(**kwargs)


def make_vec_env(num_envs: int = 1, *, task_id: str, **kwargs: Any) -> TicketRoutingVectorEnv:
    """Gymnasium vector entry point of the task ids (``gymnasium.make_vec(task_id, num_envs=...)``)."""
    return get_task(task_id).make_vec_env(num_envs, **kwargs)


# --------------------------------------------------------------------- the normalized score
def normalize(returns: ArrayLike, random_return: float, best_return: float) -> NDArray[np.float64]:
    """``100 * (returns - random_return) / (best_return - random_return)``: 0 = random, 100 = best rule."""
    if not (math.isfinite(random_return) and math.isfinite(best_return)) or best_return <= random_return:
        raise ValueError(
            f"best_return: invalid value {best_return!r}; a score needs a best-rule return above the "
            f"random return ({random_return!r})"
        )
    values = np.asarray(returns, dtype=np.float64)
    result: NDArray[np.float64] = 100.0 * (values - random_return) / (best_return - random_return)
    return result


def iqm(scores: ArrayLike) -> float:
    """Interquartile mean: the mean of the middle 50% of ``scores`` (25% trimmed from each end)."""
    from scipy import stats

    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("scores: expected at least one score")
    return float(stats.trim_mean(values, 0.25))


def iqm_interval(
    scores_by_task: Sequence[ArrayLike], *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float, float]:
    """IQM over all tasks' scores with a stratified-bootstrap 95% percentile interval.

    Each task's runs are resampled with replacement within that task (the stratified bootstrap
    of Agarwal et al. 2021, rliable's ``StratifiedBootstrap``), here with SciPy's multi-sample
    ``bootstrap``, which resamples every sample independently. The interval is NaN when a task
    has a single run.
    """
    from scipy import stats

    samples = [np.asarray(s, dtype=np.float64).reshape(-1) for s in scores_by_task]
    if not samples or any(s.size == 0 for s in samples):
        raise ValueError("scores_by_task: expected at least one task with at least one score each")
    point = iqm(np.concatenate(samples))
    if any(s.size < 2 for s in samples) or n_resamples < 1:
        return point, math.nan, math.nan

    def statistic(*xs: NDArray[np.float64], axis: int = -1) -> Any:
        return stats.trim_mean(np.concatenate(xs, axis=axis), 0.25, axis=axis)

    result = stats.bootstrap(
        samples,
        statistic,
        n_resamples=n_resamples,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return point, float(low), float(high)


# --------------------------------------------------------------------- reference returns
def config_digest(config: EnvironmentConfig) -> str:
    """A short fingerprint of every setting of ``config`` (references are valid only for it)."""
    text = json.dumps(config.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Reference:
    """The anchors of one task's score: every baseline's mean return on the task's seeds."""

    task_id: str
    returns: Mapping[str, float]
    """Mean episode return of each baseline over the evaluation seeds."""
    first_seed: int
    num_seeds: int
    config_digest: str

    @property
    def random_return(self) -> float:
        return float(self.returns[RANDOM_POLICY])

    @property
    def best_rule(self) -> str:
        """The baseline with the highest mean return."""
        return max(self.returns, key=lambda name: self.returns[name])

    @property
    def best_return(self) -> float:
        return float(self.returns[self.best_rule])

    def normalize(self, returns: ArrayLike) -> NDArray[np.float64]:
        """Scores of ``returns`` on this task (0 = random, 100 = best rule)."""
        return normalize(returns, self.random_return, self.best_return)

    def check(self, task: Task) -> None:
        """Raise :class:`StaleReferencesError` unless these references were computed for ``task`` as it is now."""
        stale: list[str] = []
        if (self.first_seed, self.num_seeds) != (task.first_seed, task.num_seeds):
            stale.append(
                f"seeds {self.first_seed}..{self.first_seed + self.num_seeds - 1} instead of "
                f"{task.first_seed}..{task.first_seed + task.num_seeds - 1}"
            )
        if self.config_digest != config_digest(task.config()):
            stale.append("a different configuration (the scenario, objective or a default changed)")
        missing = [name for name in (RANDOM_POLICY, *POLICY_NAMES) if name not in self.returns]
        if missing:
            stale.append(f"no return for baseline(s) {', '.join(dict.fromkeys(missing))}")
        if stale:
            raise StaleReferencesError(
                f"references of {task.id} were computed for {'; '.join(stale)}; regenerate them with "
                f"'{RECOMPUTE_COMMAND}'"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_rule": self.best_rule,
            "first_seed": self.first_seed,
            "num_seeds": self.num_seeds,
            "config_digest": self.config_digest,
            "returns": {name: round(float(value), 6) for name, value in self.returns.items()},
        }


def compute_references(
    task_ids: Sequence[str] | str | None = None, *, num_seeds: int | None = None, progress: bool = False
) -> dict[str, Reference]:
    """Evaluate every baseline of :data:`POLICY_NAMES` on each task's evaluation seeds.

    ``num_seeds`` (default: the task's) evaluates only the first seeds: quicker, but such
    references do not match the task and :func:`score` refuses them.
    """
    out: dict[str, Reference] = {}
    for task_id in _task_ids(task_ids):
        task = get_task(task_id)
        n = task.num_seeds if num_seeds is None else _count("num_seeds", num_seeds)
        config = task.config()
        returns: dict[str, float] = {}
        for name in POLICY_NAMES:
            df = evaluate(name, config, n, task.first_seed, batch_size=n, progress=progress)
            returns[name] = float(df["episode_return"].mean())
        out[task_id] = Reference(task_id, returns, task.first_seed, n, config_digest(config))
    return out


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: invalid value {value!r}; must be an integer >= 1")
    return value


SOURCES = (
    "rl_environments/ticket_routing/core",
    "rl_environments/ticket_routing/config/presets",
    "rl_environments/ticket_routing/config/objectives",
    "rl_environments/ticket_routing/policies.py",
    "rl_environments/ticket_routing/evaluation.py",
)
"""What the reference returns depend on (the simulation, scenarios, objectives, baselines, evaluation)."""


def _source_commit() -> str:
    """The last commit that changed :data:`SOURCES` (``"unknown"`` outside a git checkout)."""
    root = Path(__file__).resolve().parents[2]
    try:
        result = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--abbrev=12", "--", *SOURCES],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # pragma: no cover - no git on the machine
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


def write_references(references: Mapping[str, Reference], path: str | Path | None = None) -> Path:
    """Write ``references`` as YAML (default: the shipped :data:`REFERENCES_PATH`), keeping the
    stored entries of tasks not in ``references``."""
    from rl_environments import __version__

    target = Path(path) if path is not None else REFERENCES_PATH
    merged: dict[str, Reference] = {}
    if target.is_file():
        merged.update(load_references(target))
    merged.update(references)
    data = {
        "command": RECOMPUTE_COMMAND,
        "source_commit": _source_commit(),
        "version": __version__,
        "tasks": {task_id: merged[task_id].to_dict() for task_id in sorted(merged, key=_task_order)},
    }
    header = (
        "# Reference returns of the scored tasks (rl_environments/ticket_routing/tasks.py): the mean episode\n"
        "# return of every baseline on each task's evaluation seeds. score = 100 * (R - random) / (best - random).\n"
        f"# Generated by '{RECOMPUTE_COMMAND}'; do not edit by hand.\n"
        "# source_commit: the last commit that changed the simulation, scenarios, objectives, baselines\n"
        "# or evaluation when they were computed.\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + yaml.safe_dump(data, sort_keys=False, width=100), encoding="utf-8")
    return target


def _task_order(task_id: str) -> tuple[int, str]:
    return (TASK_IDS.index(task_id) if task_id in TASKS else len(TASK_IDS), task_id)


def load_references(path: str | Path | None = None) -> dict[str, Reference]:
    """The reference returns stored at ``path`` (default: the shipped :data:`REFERENCES_PATH`)."""
    source = Path(path) if path is not None else REFERENCES_PATH
    if not source.is_file():
        raise ValueError(f"references: file not found: {str(source)!r}; create it with '{RECOMPUTE_COMMAND}'")
    data = safe_yaml.load_yaml_mapping(source)
    tasks = data.get("tasks")
    if not isinstance(tasks, dict):
        raise ValueError(f"references: {source}: expected a 'tasks' mapping of task id to references")
    out: dict[str, Reference] = {}
    for task_id, entry in tasks.items():
        where = f"references: {source}: tasks.{task_id}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping")
        try:
            returns = {str(k): float(v) for k, v in dict(entry["returns"]).items()}
            reference = Reference(
                str(task_id), returns, int(entry["first_seed"]), int(entry["num_seeds"]), str(entry["config_digest"])
            )
        except KeyError as exc:
            raise ValueError(f"{where}: missing key {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: invalid value ({exc})") from None
        if RANDOM_POLICY not in returns or not all(math.isfinite(v) for v in returns.values()):
            raise ValueError(f"{where}.returns: expected finite returns including {RANDOM_POLICY!r}")
        out[str(task_id)] = reference
    return out


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
        ids = _task_ids(task_ids if task_ids is not None else list(policy))
        missing = [task_id for task_id in ids if task_id not in policy]
        if missing:
            raise ValueError(f"policy: no policy or model for task {missing[0]}")
        per_task = {task_id: _entries(policy[task_id]) for task_id in ids}
    else:
        ids = _task_ids(task_ids)
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
        n = task.num_seeds if episodes is None else _count("episodes", episodes)
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
    "RECOMPUTE_COMMAND",
    "REFERENCES_PATH",
    "TASKS",
    "TASK_IDS",
    "Reference",
    "ScoreReport",
    "StaleReferencesError",
    "Task",
    "TaskScore",
    "UnknownTaskError",
    "compute_references",
    "config_digest",
    "format_interval",
    "format_score",
    "get_task",
    "iqm",
    "iqm_interval",
    "load_references",
    "make_env",
    "make_vec_env",
    "normalize",
    "resolve_policy",
    "score",
    "write_references",
]
