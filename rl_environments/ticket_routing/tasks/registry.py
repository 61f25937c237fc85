"""The registered tasks: fixed scenarios with a fixed objective, episode length and evaluation seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.core.environment import CONFIG_FIELDS, TicketRoutingEnv
from rl_environments.ticket_routing.core.vector_env import TicketRoutingVectorEnv


class UnknownTaskError(ValueError):
    """A task id that is not registered."""


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


def resolve_task_ids(task_ids: Sequence[str] | str | None) -> list[str]:
    """The ids of ``task_ids`` (every task when ``None``), each checked, without repeats."""
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


def check_count(name: str, value: object) -> int:
    """``value`` if it is an integer >= 1, else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: invalid value {value!r}; must be an integer >= 1")
    return value
