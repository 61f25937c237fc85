"""Ticket arrivals: a Poisson process, optionally shaped by a weekly profile, or a replayed trace.

Rates are homogeneous at ``rate_per_day / 24`` per hour, or non-homogeneous with
``lambda(t) = rate * profile[hour_of_week(t)]``, sampled by thinning (Lewis and Shedler, 1979):
candidates arrive at the envelope rate ``max(lambda)`` and each is kept with probability
``lambda(t) / max(lambda)``. Type and priority are drawn from the configured mixes.
"""

from __future__ import annotations

import numpy as np

from rl_environments.ticket_routing.core.params import Params
from rl_environments.ticket_routing.core.rng import categorical, exponential, uniform
from rl_environments.ticket_routing.core.state import HOURS_PER_WEEK, T_HOURS
from rl_environments.ticket_routing.core.typing import FloatArray, UIntArray, njit


@njit(cache=True, inline="always")
def next_poisson_arrival(rng: UIntArray, now: float, p: Params) -> float:
    """Time (hours) of the first arrival after ``now``."""
    t = now
    rate = p.arrival_rate_max
    if not p.arrivals_weekly_profile:
        return t + exponential(rng) / rate
    while True:
        t += exponential(rng) / rate
        if uniform(rng) < p.profile_accept[int(np.floor(t)) % HOURS_PER_WEEK]:
            return t


@njit(cache=True, inline="always")
def draw_type_priority(rng: UIntArray, p: Params) -> tuple[int, int]:
    """Ticket type and priority indices from the configured mixes."""
    ticket_type = categorical(rng, p.arrivals_type_cdf)
    priority = categorical(rng, p.arrivals_priority_cdf)
    return ticket_type, priority


@njit(cache=True, inline="always")
def trace_arrival_time(trace: FloatArray, index: int, shift: float, start: float) -> float:
    """Absolute time of trace entry ``index`` (inf once a non-looping trace is exhausted)."""
    if index >= trace.shape[0]:
        return np.inf
    return start + shift + trace[index, T_HOURS]


@njit(cache=True, inline="always")
def advance_trace(index: int, shift: float, p: Params) -> tuple[int, float]:
    """Index and time shift of the entry after ``index`` (wrapping when the trace loops)."""
    index += 1
    if index >= p.trace.shape[0] and p.trace_mode == 2:
        return 0, shift + p.trace_period_hours
    return index, shift
