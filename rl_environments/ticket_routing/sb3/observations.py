"""Engineered observations for a plain MLP: the ticket's expertise column, counters as floats, the expected delay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from rl_environments.ticket_routing.core.config import ConfigLike, resolve_config
from rl_environments.ticket_routing.wrappers import ticket_expertise

TICKET_EXPERTISE_KEY = "agent_ticket_expertise"
"""Engineered observation: each agent's expertise for the type of the ticket to route, ``(num_agents,)``."""

SCALAR_KEYS = ("queue_size", "time_step")
"""Discrete counters that engineered observations carry as one float instead of a one-hot vector."""


DELAY_KEY = "agent_expected_delay"
"""Engineered observation (opt-in): ``log(1 + h)`` for ``h`` the hours until the ticket would be
resolved at each agent according to the ``shift_sed`` rule (remaining work and shifts), ``(num_agents,)``."""

DELAY_LOG_CAP = float(np.log1p(1e5))
"""Upper bound of :data:`DELAY_KEY` (delays beyond 100,000 hours are clipped)."""

ExpectedDelay = Callable[[dict[str, Any]], Any]
"""Maps a batch of flat observations to ``(N, num_agents)`` expected hours."""


def expected_delay_model(config: ConfigLike) -> ExpectedDelay:
    """The ``shift_sed`` rule's expected hours per agent, for :func:`engineer_observation`."""
    from rl_environments.ticket_routing.policies import ShiftSedPolicy

    return ShiftSedPolicy(resolve_config(config)).expected_hours


def engineer_observation(obs: dict[str, Any], delay: ExpectedDelay | None = None) -> dict[str, Any]:
    """A batch of flat observations with routing features for a plain MLP.

    Adds :data:`TICKET_EXPERTISE_KEY` (the column of ``agent_expertise`` for the ticket's type, as
    in :class:`~rl_environments.ticket_routing.wrappers.CompactObservation`,
    which an MLP would otherwise have to learn as a product of a one-hot and a matrix) and turns
    ``queue_size`` and ``time_step`` into ``(N, 1)`` floats (SB3 one-hot encodes ``Discrete``
    inputs: 1,501 mostly idle inputs for ``time_step`` on the default scenario).
    """
    types = np.asarray(obs["ticket_type"], dtype=np.int64).reshape(-1)
    n = types.shape[0]
    out = dict(obs)
    out[TICKET_EXPERTISE_KEY] = ticket_expertise(types, np.asarray(obs["agent_expertise"]).reshape(n, -1))
    for key in SCALAR_KEYS:
        out[key] = np.asarray(obs[key], dtype=np.float32).reshape(n, 1)
    if delay is not None:
        hours = np.asarray(delay(obs), dtype=np.float64).reshape(n, -1)
        out[DELAY_KEY] = np.minimum(np.log1p(hours), DELAY_LOG_CAP).astype(np.float32)
    return out


def engineered_space(space: spaces.Dict, delay: bool = False) -> spaces.Dict:
    """The observation space of :func:`engineer_observation` for a flat observation ``space``."""
    items: dict[str, spaces.Space[Any]] = dict(space.spaces)
    for key in SCALAR_KEYS:
        counter = space[key]
        if not isinstance(counter, spaces.Discrete):
            raise ValueError(f"observation_space: {key!r} must be Discrete, got {counter}")
        items[key] = spaces.Box(0.0, float(int(counter.n) - 1), shape=(1,), dtype=np.float32)
    num_agents = space["agent_workload"].shape[0]  # type: ignore[index]
    items[TICKET_EXPERTISE_KEY] = spaces.Box(0.0, 1.0, shape=(num_agents,), dtype=np.float32)
    if delay:
        items[DELAY_KEY] = spaces.Box(0.0, DELAY_LOG_CAP, shape=(num_agents,), dtype=np.float32)
    return spaces.Dict(items)


def normalized_keys(space: spaces.Dict) -> list[str]:
    """Keys ``VecNormalize`` should standardise: the unbounded-scale ``Box`` entries."""
    skip = {"agent_expertise", TICKET_EXPERTISE_KEY, "hour_of_week", DELAY_KEY}  # bounded, on a meaningful scale
    return [key for key, sub in space.spaces.items() if isinstance(sub, spaces.Box) and key not in skip]
