"""Reference returns: every baseline's mean return on each task's evaluation seeds, stored with the package."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from rl_environments.ticket_routing.core import safe_yaml
from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.evaluation import evaluate
from rl_environments.ticket_routing.policies import POLICY_NAMES
from rl_environments.ticket_routing.tasks.registry import (
    TASK_IDS,
    TASKS,
    Task,
    check_count,
    get_task,
    resolve_task_ids,
)

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

RANDOM_POLICY = "random"
"""The baseline that anchors a score of 0: a uniformly random agent among those that can take the ticket."""

REFERENCES_PATH = Path(__file__).resolve().parents[1] / "config" / "task_references.yaml"
"""The shipped reference returns of every task."""

RECOMPUTE_COMMAND = "ticket-routing score --recompute-references"
"""The command that regenerates :data:`REFERENCES_PATH`."""


class StaleReferencesError(ValueError):
    """The stored reference returns do not belong to the task as it is defined now."""


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
    for task_id in resolve_task_ids(task_ids):
        task = get_task(task_id)
        n = task.num_seeds if num_seeds is None else check_count("num_seeds", num_seeds)
        config = task.config()
        returns: dict[str, float] = {}
        for name in POLICY_NAMES:
            df = evaluate(name, config, n, task.first_seed, batch_size=n, progress=progress)
            returns[name] = float(df["episode_return"].mean())
        out[task_id] = Reference(task_id, returns, task.first_seed, n, config_digest(config))
    return out


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
    root = Path(__file__).resolve().parents[3]
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
        "# Reference returns of the scored tasks (rl_environments/ticket_routing/tasks): the mean episode\n"
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
