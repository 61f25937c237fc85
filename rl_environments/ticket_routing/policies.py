"""Baseline routing policies: the bar an RL agent has to beat, and rules a support team can use today.

A policy maps an observation and the action mask to an agent index. Every policy here works on
single flat observations (``act``, as returned by :class:`TicketRoutingEnv`) and on batched flat
observations (``act_batch``, as returned by :class:`TicketRoutingVectorEnv`) with the same NumPy
code, and never chooses a masked agent while a valid one exists. Policies are seedable: their only
randomness (random choice and tie-breaking) comes from a generator seeded by ``reset(seed)``.

| name              | rule                                                                         |
|-------------------|------------------------------------------------------------------------------|
| `random`          | a uniformly random valid agent                                               |
| `round_robin`     | the next valid agent after the previous choice                               |
| `least_loaded`    | the valid agent with the fewest open tickets (join the shortest queue)        |
| `best_expertise`  | the valid agent with the highest expertise for the ticket type               |
| `skill_load`      | expertise minus ``load_weight`` times the fraction of capacity in use         |
| `priority_sed`    | shortest expected delay, with capacity reserved for urgent tickets           |
| `shift_sed`       | expected delay from each agent's remaining work and shift schedule           |

>>> from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv
>>> config = EnvironmentConfig()
>>> env = TicketRoutingEnv(config)
>>> obs, info = env.reset(seed=0)
>>> policy = make_policy("least_loaded", config, seed=0)
>>> bool(info["action_mask"][policy.act(obs, info["action_mask"])])
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from rl_environments.ticket_routing.core.config import PRIORITIES, EnvironmentConfig
from rl_environments.ticket_routing.core.params import agent_schedule
from rl_environments.ticket_routing.core.service import agent_speed
from rl_environments.ticket_routing.core.state import NT

_TIE_BREAK = 1e-6  # random jitter that only breaks exact ties between equal scores


@runtime_checkable
class Policy(Protocol):
    """What the evaluation harness, the CLI, the dashboard and RL code call."""

    name: str

    def reset(self, seed: int | None = None) -> None:
        """Forget any state; with ``seed``, restart the policy's random stream."""

    def act(self, obs: dict[str, Any], mask: NDArray[np.bool_]) -> int:
        """The agent for one flat observation (``mask``: agents that can take the ticket)."""

    def act_batch(self, obs: dict[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Agents for a batch of flat observations (leading axis = environment), shape ``(N,)``."""


def _batch_of_one(obs: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
    """A single flat observation with a leading batch axis of size 1."""
    return {key: np.asarray(value)[None, ...] for key, value in obs.items()}


def _check_masks(masks: NDArray[np.bool_], num_agents: int) -> NDArray[np.bool_]:
    m = np.asarray(masks, dtype=np.bool_)
    if m.ndim != 2 or m.shape[1] != num_agents:
        raise ValueError(f"masks: expected shape (num_envs, {num_agents}), got {m.shape}")
    return m


class ScorePolicy:
    """Base of the baselines: score every agent, pick the best valid one (random tie-breaks).

    Subclasses implement :meth:`scores`; rows without any valid agent fall back to the best score
    over all agents (the environment then applies its invalid-action rule).
    """

    name = "score"

    def __init__(self, config: EnvironmentConfig, seed: int | None = None) -> None:
        self.config = config
        self.num_agents = config.num_agents
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Higher is better; shape ``(N, num_agents)``."""
        raise NotImplementedError

    def act(self, obs: Mapping[str, Any], mask: NDArray[np.bool_]) -> int:
        return int(self.act_batch(_batch_of_one(obs), np.asarray(mask, dtype=np.bool_)[None, :])[0])

    def act_batch(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.int64]:
        m = _check_masks(masks, self.num_agents)
        s = self.scores(obs, m).astype(np.float64, copy=True)
        s += _TIE_BREAK * self.rng.random(s.shape)
        any_valid = m.any(axis=1, keepdims=True)
        s = np.where(m | ~any_valid, s, -np.inf)
        actions: NDArray[np.int64] = np.argmax(s, axis=1).astype(np.int64)
        return actions

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _expertise(obs: Mapping[str, NDArray[Any]], num_agents: int) -> NDArray[np.float64]:
    """(N, A) expertise of every agent for each row's ticket type."""
    matrix = np.asarray(obs["agent_expertise"], dtype=np.float64).reshape(-1, num_agents, NT)
    types = np.asarray(obs["ticket_type"], dtype=np.int64).reshape(-1)
    return np.take_along_axis(matrix, types[:, None, None], axis=2)[:, :, 0]


def _workload(obs: Mapping[str, NDArray[Any]], num_agents: int) -> NDArray[np.float64]:
    return np.asarray(obs["agent_workload"], dtype=np.float64).reshape(-1, num_agents)


class RandomPolicy(ScorePolicy):
    """A uniformly random agent among those that can take the ticket."""

    name = "random"

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.zeros(masks.shape)  # the random tie-break makes the choice uniform


class RoundRobinPolicy(ScorePolicy):
    """The next valid agent after the one chosen last (per environment of a batch)."""

    name = "round_robin"

    def __init__(self, config: EnvironmentConfig, seed: int | None = None) -> None:
        super().__init__(config, seed)
        self._last: NDArray[np.int64] = np.full(1, -1, dtype=np.int64)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._last = np.full(1, -1, dtype=np.int64)

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        n, a = masks.shape
        if self._last.shape[0] != n:
            self._last = np.full(n, -1, dtype=np.int64)
        distance: NDArray[np.float64] = ((np.arange(a)[None, :] - self._last[:, None] - 1) % a).astype(np.float64)
        return -distance  # 0 for the next agent in turn, lower for the ones after it

    def act_batch(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.int64]:
        actions = super().act_batch(obs, masks)
        self._last = actions.copy()
        return actions


class LeastLoadedPolicy(ScorePolicy):
    """Join the shortest queue: the valid agent with the fewest open tickets."""

    name = "least_loaded"

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        return -_workload(obs, self.num_agents)


class BestExpertisePolicy(ScorePolicy):
    """The valid agent with the highest expertise for the ticket's type, whatever its load."""

    name = "best_expertise"

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        return _expertise(obs, self.num_agents)


class SkillLoadPolicy(ScorePolicy):
    """Expertise traded against load: ``expertise - load_weight * workload / max_workload``.

    With the default ``load_weight = 1.0`` a full agent loses as much score as the gap between a
    novice (0) and a perfect expert (1); one more open ticket (out of 10) costs 0.1 expertise.
    """

    name = "skill_load"

    def __init__(self, config: EnvironmentConfig, seed: int | None = None, *, load_weight: float = 1.0) -> None:
        super().__init__(config, seed)
        if not np.isfinite(load_weight) or load_weight < 0:
            raise ValueError(f"load_weight: invalid value {load_weight!r}; must be a finite number >= 0")
        self.load_weight = float(load_weight)

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        load = _workload(obs, self.num_agents) / self.config.max_workload
        return _expertise(obs, self.num_agents) - self.load_weight * load


class PrioritySedPolicy(ScorePolicy):
    """Shortest expected delay with trunk reservation by priority.

    *Shortest expected delay* (SED) routes a job to the server where it is expected to finish
    first given that server's speed and queue (Selen, Adan, Kapodistria and van Leeuwaarden, 2016,
    "Steady-state analysis of shortest expected delay routing", Queueing Systems; the same rule is
    Linux IPVS's ``sed`` load-balancing scheduler). With this environment's service model
    (processor sharing with a switching overhead ``s``, speed ``min_speed + (1 - min_speed) * e``),
    a ticket of type ``k`` given to an agent with ``n`` open tickets and expertise ``e`` is expected
    to take about ``effort[k] / speed(e) * (n + 1) * (1 + s * n)`` hours; the rule minimises that.

    *Trunk reservation* (Miller, 1969, "A queueing reward system with several customer classes",
    Management Science 16(3); Key, 1990, "Optimal control and trunk reservation in loss networks")
    keeps the last ``reserve[p]`` slots of every agent for more urgent work: a ticket of priority
    ``p`` goes only to agents with at least ``reserve[p] + 1`` free slots, unless no agent has
    that many (then to any valid agent). The default reserves nothing for critical and high
    tickets, one slot for medium and two for low. On the shipped scenarios SED keeps agents well
    below that point, so the reservation seldom binds and the rule acts as plain SED; it matters
    when a team is overloaded. (Agents share their time equally among open tickets whatever their
    priority, so routing alone cannot speed up urgent tickets much: see docs/calibration.md.)
    """

    name = "priority_sed"
    DEFAULT_RESERVE: tuple[int, ...] = (0, 0, 1, 2)

    def __init__(
        self,
        config: EnvironmentConfig,
        seed: int | None = None,
        *,
        reserve: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(config, seed)
        slots = tuple(self.DEFAULT_RESERVE if reserve is None else reserve)
        if len(slots) != len(PRIORITIES) or any(int(r) != r or r < 0 for r in slots):
            raise ValueError(f"reserve: invalid value {reserve!r}; expected {len(PRIORITIES)} integers >= 0")
        self.reserve = np.asarray(slots, dtype=np.float64)
        service = config.service
        self._effort = np.asarray(service.base_effort_hours, dtype=np.float64)
        self._min_speed = float(service.min_speed)
        self._switch = float(service.switching_overhead)

    def expected_hours(self, obs: Mapping[str, NDArray[Any]]) -> NDArray[np.float64]:
        """(N, A) expected hours to resolve each row's ticket at each agent, if assigned now."""
        expertise = _expertise(obs, self.num_agents)
        n = _workload(obs, self.num_agents)
        types = np.asarray(obs["ticket_type"], dtype=np.int64).reshape(-1)
        speed = agent_speed(expertise, self._min_speed)
        work = self._effort[types][:, None] / speed
        result: NDArray[np.float64] = work * (n + 1.0) * (1.0 + self._switch * n)
        return result

    def scores(self, obs: Mapping[str, NDArray[Any]], masks: NDArray[np.bool_]) -> NDArray[np.float64]:
        hours = self.expected_hours(obs)
        priority = np.asarray(obs["ticket_priority"], dtype=np.int64).reshape(-1)
        free = self.config.max_workload - _workload(obs, self.num_agents)
        allowed = masks & (free > self.reserve[priority][:, None])
        use = np.where(allowed.any(axis=1, keepdims=True), allowed, masks)
        # Agents outside ``use`` rank below every allowed one but above masked agents.
        penalty = np.where(use, 0.0, 1e9)
        return -(hours + penalty)


class ShiftSedPolicy(PrioritySedPolicy):
    """Expected-delay routing that knows each agent's remaining work and shift schedule.

    Like ``priority_sed`` (same trunk reservation), but the expected delay is in wall-clock hours:

    * the agent's *online* time needed: under processor sharing the new ticket (work ``w``) is done
      once the agent has delivered ``w`` plus ``min(R, n * w)`` of the work already open (``R``, from
      the observation's ``agent_remaining_work``), at ``1 / (1 + s * n)`` work-hours per hour;
    * converted to wall-clock time through the agent's weekly schedule from the current hour of
      week (``hour_of_week``): work that does not fit before the shift ends resumes at the next
      shift, so an agent about to go offline is chosen only when waiting for it is still faster.
    """

    name = "shift_sed"

    def __init__(
        self,
        config: EnvironmentConfig,
        seed: int | None = None,
        *,
        reserve: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(config, seed, reserve=reserve)
        schedule = agent_schedule(config).astype(np.float64)
        self._schedule = schedule
        self._week_online = schedule.sum(axis=1)
        two_weeks = np.concatenate([schedule, schedule], axis=1)
        self._cumulative = np.concatenate([np.zeros((schedule.shape[0], 1)), np.cumsum(two_weeks, axis=1)], axis=1)

    def expected_hours(self, obs: Mapping[str, NDArray[Any]]) -> NDArray[np.float64]:
        """(N, A) wall-clock hours until each row's ticket would be resolved at each agent."""
        n = _workload(obs, self.num_agents)
        types = np.asarray(obs["ticket_type"], dtype=np.int64).reshape(-1)
        speed = agent_speed(_expertise(obs, self.num_agents), self._min_speed)
        work = self._effort[types][:, None] / speed
        remaining = np.asarray(obs["agent_remaining_work"], dtype=np.float64).reshape(-1, self.num_agents)
        online_needed = (work + np.minimum(remaining, n * work)) * (1.0 + self._switch * n)
        return self._wall_clock_hours(_hour_of_week(obs), online_needed)

    def _wall_clock_hours(self, start: NDArray[np.float64], online: NDArray[np.float64]) -> NDArray[np.float64]:
        """Hours from ``start`` (hour of week, (N,)) until each agent has been online ``online`` (N, A) hours."""
        hour = np.floor(start).astype(np.int64) % 168
        frac = start - np.floor(start)
        out = np.full(online.shape, np.inf)
        for a in range(self.num_agents):
            per_week = self._week_online[a]
            if per_week <= 0.0:
                continue
            cum = self._cumulative[a]
            before = cum[hour] + frac * self._schedule[a, hour]
            weeks = np.floor(online[:, a] / per_week)
            target = before + online[:, a] - weeks * per_week
            k = np.clip(np.searchsorted(cum, target, side="left"), 1, cum.size - 1)
            finish = (k - 1) + (target - cum[k - 1])
            out[:, a] = np.maximum(weeks * 168.0 + finish - (hour + frac), 0.0)
        return out


def _hour_of_week(obs: Mapping[str, NDArray[Any]]) -> NDArray[np.float64]:
    """(N,) hour of week in [0, 168) from the observation's cyclic ``hour_of_week`` (sin, cos)."""
    clock = np.asarray(obs["hour_of_week"], dtype=np.float64).reshape(-1, 2)
    angle = np.mod(np.arctan2(clock[:, 0], clock[:, 1]), 2.0 * np.pi)
    hours: NDArray[np.float64] = np.mod(angle * 168.0 / (2.0 * np.pi), 168.0)
    return hours


_REGISTRY: dict[str, type[ScorePolicy]] = {
    cls.name: cls
    for cls in (
        RandomPolicy,
        RoundRobinPolicy,
        LeastLoadedPolicy,
        BestExpertisePolicy,
        SkillLoadPolicy,
        PrioritySedPolicy,
        ShiftSedPolicy,
    )
}

POLICY_NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""Names accepted by :func:`make_policy`, in the order used by reports."""


def make_policy(name: str, config: EnvironmentConfig, seed: int | None = None) -> Policy:
    """A baseline policy by name (see :data:`POLICY_NAMES`), seeded with ``seed``."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ValueError(f"policy: unknown policy {name!r}; known policies: {', '.join(POLICY_NAMES)}")
    return cls(config, seed)
