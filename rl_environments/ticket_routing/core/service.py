"""The agent pool: expertise, availability and how fast agents work.

Service is (weighted) processor sharing: an online agent with ``n`` open tickets works at a total
rate of ``1 / (1 + s * (n - 1))`` work-hours per hour (``s`` = switching overhead), split among its
tickets in proportion to their priority weights (equally by default). A ticket of type ``k``
needs ``base_effort[k] * X / speed(e)`` work-hours, where ``X`` has mean 1 (exponential,
lognormal or deterministic) and ``speed(e) = min_speed + (1 - min_speed) * e`` for the agent's
expertise ``e`` on type ``k``.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from rl_environments.ticket_routing.core.params import Params
from rl_environments.ticket_routing.core.rng import exponential, standard_normal, uniform
from rl_environments.ticket_routing.core.state import NT, S_PRIORITY, State
from rl_environments.ticket_routing.core.typing import FloatArray, UIntArray, njit


@njit(cache=True, inline="always")
def draw_expertise(rng: UIntArray, out: FloatArray, p: Params) -> None:
    """Fill ``out`` (num_agents, NT) with this episode's expertise matrix."""
    if p.agents_expertise_given:
        out[:, :] = p.agents_expertise
        return
    lo, hi = p.agents_expertise_low, p.agents_expertise_high
    spec_lo, spec_hi = p.agents_specialist_low, p.agents_specialist_high
    n_spec = p.agents_specialties_per_agent
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


SpeedT = TypeVar("SpeedT", float, FloatArray)


def agent_speed(expertise: SpeedT, min_speed: float) -> SpeedT:
    """Relative speed of an agent with ``expertise`` on a ticket type: ``min_speed + (1 - min_speed) * e``
    (a float or an array). The one definition of the speed formula: the kernels compile it, and the
    rules and the log fitting call it."""
    return min_speed + (1.0 - min_speed) * expertise


_agent_speed = njit(cache=True, inline="always")(agent_speed)


@njit(cache=True, inline="always")
def sample_work(rng: UIntArray, ticket_type: int, expertise: float, p: Params) -> float:
    """Work-hours a ticket of ``ticket_type`` needs from an agent with ``expertise``."""
    dist = p.service_distribution
    if dist == 0:
        x = exponential(rng)
    elif dist == 1:
        x = np.exp(p.service_log_mu + p.service_log_sigma * standard_normal(rng))
    else:
        x = 1.0
    return p.service_base_effort_hours[ticket_type] * x / _agent_speed(expertise, p.service_min_speed)


@njit(cache=True, inline="always")
def total_rate(open_tickets: int, p: Params) -> float:
    """Work-hours per hour an online agent with ``open_tickets`` delivers in total:
    ``1 / (1 + s * (n - 1))``, tabulated by ``compile_params``."""
    return p.service_rate_table[open_tickets]


@njit(cache=True, inline="always")
def priority_weight(priority: int, p: Params) -> float:
    """Attention weight of an open ticket of ``priority``."""
    return p.service_priority_weights[priority]


@njit(cache=True, inline="always")
def open_ticket_weight(i: int, j: int, a: int, st: State, p: Params) -> float:
    """Attention weight of agent ``a``'s ``j``-th open ticket. With equal weights (the default)
    it is 1.0 without reading the ticket's priority."""
    if p.service_unit_weights:
        return 1.0
    return priority_weight(int(st.slots[i, S_PRIORITY, a, j]), p)
