"""The observation: its space, the kernel piece that fills its buffers, and the one builder that
turns the buffers into the dictionaries both environment classes return.

The buffers (:class:`core.state.Observation`) are named as the keys of the flat layout. The nested
layout (the product brief's) groups the same values; :data:`NESTED` says how.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES, EnvironmentConfig
from rl_environments.ticket_routing.core.dynamics import head_priority
from rl_environments.ticket_routing.core.params import Params, remaining_work_cap
from rl_environments.ticket_routing.core.service import open_ticket_weight, total_rate
from rl_environments.ticket_routing.core.state import (
    A_UPDATED,
    A_VWORK,
    A_WEIGHT,
    CLOCK_FEATURES,
    F_CLOCK,
    HOURS_PER_WEEK,
    I_HEAD,
    I_QFRONT,
    I_QLEN,
    I_STEP,
    NT,
    OBSERVATION_KEYS,
    Q_ARRIVAL,
    Q_TYPE,
    S_TARGET,
    Observation,
    State,
)
from rl_environments.ticket_routing.core.typing import AnyArray, njit

OBSERVATION_LAYOUTS = ("flat", "nested")
DISCRETE_KEYS = ("ticket_type", "ticket_priority", "queue_size", "time_step")
"""Keys whose value is a Python int in the single environment (``Discrete`` spaces)."""
NESTED: dict[str, str | dict[str, str]] = {
    "current_ticket": {"type": "ticket_type", "priority": "ticket_priority", "age": "ticket_age"},
    "agents": {
        "expertise": "agent_expertise",  # reshaped to (num_agents, NT)
        "workload": "agent_workload",
        "availability": "agent_availability",
        "next_change_hours": "agent_next_change_hours",
        "change_goes_offline": "agent_change_goes_offline",
        "remaining_work": "agent_remaining_work",
    },
    "queue_size": "queue_size",
    "time_step": "time_step",
    "hour_of_week": "hour_of_week",
}
"""The nested layout: each key, or group of keys, and the flat key that holds its value."""


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {inner: flat[src] for inner, src in source.items()} if isinstance(source, dict) else flat[source]
        for key, source in NESTED.items()
    }


def observation_space_for(config: EnvironmentConfig, layout: str = "flat") -> spaces.Dict:
    """The observation space of one environment with ``config``."""
    if layout not in OBSERVATION_LAYOUTS:
        raise ValueError(f"observation_layout: invalid value {layout!r}; allowed: {', '.join(OBSERVATION_LAYOUTS)}")
    a = config.num_agents
    expertise_shape = (a * NT,) if layout == "flat" else (a, NT)
    flat: dict[str, spaces.Space[Any]] = {
        "ticket_type": spaces.Discrete(len(TICKET_TYPES)),
        "ticket_priority": spaces.Discrete(len(PRIORITIES)),
        "ticket_age": spaces.Box(0.0, np.float32(config.max_ticket_age_hours), shape=(1,), dtype=np.float32),
        "agent_expertise": spaces.Box(0.0, 1.0, shape=expertise_shape, dtype=np.float32),
        "agent_workload": spaces.Box(0.0, float(config.max_workload), shape=(a,), dtype=np.float32),
        "agent_availability": spaces.MultiBinary(a),
        "queue_size": spaces.Discrete(config.max_queue_size + 1),
        "time_step": spaces.Discrete(config.episode_length + 1),
        "hour_of_week": spaces.Box(-1.0, 1.0, shape=(len(CLOCK_FEATURES),), dtype=np.float32),
        "agent_next_change_hours": spaces.Box(0.0, float(HOURS_PER_WEEK), shape=(a,), dtype=np.float32),
        "agent_change_goes_offline": spaces.MultiBinary(a),
        "agent_remaining_work": spaces.Box(0.0, np.float32(remaining_work_cap(config)), shape=(a,), dtype=np.float32),
    }
    if layout == "flat":
        return spaces.Dict(flat)
    return spaces.Dict(
        {key: spaces.Dict(value) if isinstance(value, dict) else value for key, value in _nest(flat).items()}
    )


class ObservationBuilder:
    """Copies the observation buffers into fresh dictionaries: the observation of environment
    ``row`` (the single environment) or of every environment (``row=None``, the vector env)."""

    def __init__(self, buffers: Observation, layout: str, row: int | None = None) -> None:
        if layout not in OBSERVATION_LAYOUTS:
            raise ValueError(f"observation_layout: invalid value {layout!r}; allowed: {', '.join(OBSERVATION_LAYOUTS)}")
        self.nested = layout == "nested"
        # One bound call per key, prepared once: a copy of a (row) view, or a Python int.
        getters: list[Callable[[], Any]] = []
        for key in OBSERVATION_KEYS:
            array: AnyArray = getattr(buffers, key)
            if key == "agent_expertise" and self.nested:
                array = array.reshape(array.shape[0], -1, NT)
            if row is None:
                getters.append(array.copy)
            elif key in DISCRETE_KEYS:
                getters.append(array[row, ...].item)  # a 0-d view's item(): a Python int
            else:
                getters.append(array[row].copy)
        self._flat = _flat_display(tuple(getters))

    def __call__(self) -> dict[str, Any]:
        flat = self._flat()
        return _nest(flat) if self.nested else flat


def _flat_display(getters: tuple[Callable[[], Any], ...]) -> Callable[[], dict[str, Any]]:
    """A function that calls ``getters`` (one per key of :data:`OBSERVATION_KEYS`, in order) into
    the flat observation: one dictionary display, which Python builds faster than a loop over the keys."""
    (
        ticket_type,
        ticket_priority,
        ticket_age,
        agent_expertise,
        agent_workload,
        agent_availability,
        queue_size,
        time_step,
        hour_of_week,
        agent_next_change_hours,
        agent_change_goes_offline,
        agent_remaining_work,
    ) = getters

    def flat() -> dict[str, Any]:
        return {
            "ticket_type": ticket_type(),
            "ticket_priority": ticket_priority(),
            "ticket_age": ticket_age(),
            "agent_expertise": agent_expertise(),
            "agent_workload": agent_workload(),
            "agent_availability": agent_availability(),
            "queue_size": queue_size(),
            "time_step": time_step(),
            "hour_of_week": hour_of_week(),
            "agent_next_change_hours": agent_next_change_hours(),
            "agent_change_goes_offline": agent_change_goes_offline(),
            "agent_remaining_work": agent_remaining_work(),
        }

    return flat


def check_display(build: Callable[[], Mapping[str, Any]], names: tuple[str, ...], where: str) -> None:
    """Fail at import if the dictionary display ``build`` fills (``where``) does not list ``names``
    in order: the displays name their keys again, so a name added to one place only is caught."""
    try:
        keys = tuple(build())
    except (TypeError, ValueError):  # a different number of names than values
        keys = ()
    if keys != names:
        raise ImportError(f"{where} must list {names} in this order")


check_display(
    lambda: _flat_display((tuple,) * len(OBSERVATION_KEYS))(), OBSERVATION_KEYS, "core/observation.py: _flat_display"
)


@njit(cache=True, inline="always")
def write_observation(i: int, st: State, p: Params, obs: Observation) -> None:
    """The ticket, clock and time-dependent agent parts of the observation (agents' load and
    availability are kept current by ``dynamics.refresh_agent``)."""
    fs, ist, queue, slots, stats = st.floats, st.counts, st.queue, st.slots, st.agent_stats
    clock = fs[i, F_CLOCK]
    priority = head_priority(i, st)
    ist[i, I_HEAD] = priority
    if priority >= 0:
        front = ist[i, I_QFRONT + priority]
        obs.ticket_type[i] = int(queue[i, priority, front, Q_TYPE])
        obs.ticket_priority[i] = priority
        obs.ticket_age[i, 0] = min(clock - queue[i, priority, front, Q_ARRIVAL], p.max_ticket_age_hours)
    else:  # terminated: no ticket left; placeholders
        obs.ticket_type[i] = 0
        obs.ticket_priority[i] = 0
        obs.ticket_age[i, 0] = 0.0
    obs.queue_size[i] = ist[i, I_QLEN]
    obs.time_step[i] = ist[i, I_STEP]
    hour = np.floor(clock)
    angle = 2.0 * np.pi * (clock - HOURS_PER_WEEK * np.floor(clock / HOURS_PER_WEEK)) / HOURS_PER_WEEK
    obs.hour_of_week[i, 0] = np.sin(angle)
    obs.hour_of_week[i, 1] = np.cos(angle)
    h = int(hour) % HOURS_PER_WEEK
    num_agents = st.workload.shape[1]
    change, since = p.agent_change[h], clock - hour
    for a in range(num_agents):
        obs.agent_next_change_hours[i, a] = change[a] - since
    # Remaining work: each agent's sum over its open tickets, in slot order, of the work each still
    # needs at the observation's clock.
    targets = slots[i, S_TARGET]
    for a in range(num_agents):
        n = st.workload[i, a]
        v = stats[i, A_VWORK, a]
        if st.online[i, a] and n > 0:
            v += (clock - stats[i, A_UPDATED, a]) * total_rate(n, p) / stats[i, A_WEIGHT, a]
        left = 0.0
        for j in range(n):
            left += max(targets[a, j] - v, 0.0) * open_ticket_weight(i, j, a, st, p)
        obs.agent_remaining_work[i, a] = min(left, p.work_cap)
