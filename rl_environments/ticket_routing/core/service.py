"""The agent pool: expertise, availability and how fast agents work.

Service is (weighted) processor sharing: an online agent with ``n`` open tickets works at a total
rate of ``1 / (1 + s * (n - 1))`` work-hours per hour (``s`` = switching overhead), split among its
tickets in proportion to their priority weights (equally by default). A ticket of type ``k``
needs ``base_effort[k] * X / speed(e)`` work-hours, where ``X`` has mean 1 (exponential,
lognormal or deterministic) and ``speed(e) = min_speed + (1 - min_speed) * e`` for the agent's
expertise ``e`` on type ``k``.
"""

from __future__ import annotations

import numpy as np

from rl_environments.ticket_routing.core.params import (
    P_DIST,
    P_EFFORT,
    P_EXP_HI,
    P_EXP_LO,
    P_FIXED_EXPERTISE,
    P_LOG_MU,
    P_LOG_SIGMA,
    P_MIN_SPEED,
    P_N_SPEC,
    P_PRIO_WEIGHT,
    P_RATE_TABLE,
    P_SPEC_HI,
    P_SPEC_LO,
)
from rl_environments.ticket_routing.core.rng import exponential, standard_normal, uniform
from rl_environments.ticket_routing.core.typing import FloatArray, UIntArray, njit

NT = 5


@njit(cache=True, inline="always")
def draw_expertise(rng: UIntArray, out: FloatArray, p: FloatArray, fixed: FloatArray) -> None:
    """Fill ``out`` (num_agents, 5) with this episode's expertise matrix."""
    if p[P_FIXED_EXPERTISE] == 1.0:
        out[:, :] = fixed
        return
    lo, hi = p[P_EXP_LO], p[P_EXP_HI]
    spec_lo, spec_hi = p[P_SPEC_LO], p[P_SPEC_HI]
    n_spec = int(p[P_N_SPEC])
    order = np.empty(NT, dtype=np.int64)
    for a in range(out.shape[0]):
        for k in range(NT):
            out[a, k] = lo + (hi - lo) * uniform(rng)
        for k in range(NT):
            order[k] = k
        for j in range(n_spec):  # partial Fisher-Yates: n_spec distinct specialties
            r = j + int(uniform(rng) * (NT - j))
            tmp = order[j]
            order[j] = order[r]
            order[r] = tmp
            out[a, order[j]] = spec_lo + (spec_hi - spec_lo) * uniform(rng)


@njit(cache=True, inline="always")
def sample_work(rng: UIntArray, ticket_type: int, expertise: float, p: FloatArray) -> float:
    """Work-hours a ticket of ``ticket_type`` needs from an agent with ``expertise``."""
    dist = p[P_DIST]
    if dist == 0.0:
        x = exponential(rng)
    elif dist == 1.0:
        x = np.exp(p[P_LOG_MU] + p[P_LOG_SIGMA] * standard_normal(rng))
    else:
        x = 1.0
    speed = p[P_MIN_SPEED] + (1.0 - p[P_MIN_SPEED]) * expertise
    return p[P_EFFORT + ticket_type] * x / speed


@njit(cache=True, inline="always")
def total_rate(open_tickets: int, p: FloatArray) -> float:
    """Work-hours per hour an online agent with ``open_tickets`` delivers in total:
    ``1 / (1 + s * (n - 1))``, tabulated by ``compile_params``."""
    return p[P_RATE_TABLE + open_tickets]


@njit(cache=True, inline="always")
def priority_weight(priority: int, p: FloatArray) -> float:
    """Attention weight of an open ticket of ``priority``."""
    return p[P_PRIO_WEIGHT + priority]
