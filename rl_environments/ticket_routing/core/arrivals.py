"""Ticket arrivals: a Poisson process, optionally shaped by a weekly profile, or a replayed trace.

Rates are homogeneous at ``rate_per_day / 24`` per hour, or non-homogeneous with
``lambda(t) = rate * profile[hour_of_week(t)]``, sampled by thinning (Lewis and Shedler, 1979):
candidates arrive at the envelope rate ``max(lambda)`` and each is kept with probability
``lambda(t) / max(lambda)``. Type and priority are drawn from the configured mixes.
"""

from __future__ import annotations

import numpy as np

from rl_environments.ticket_routing.core.params import (
    P_PRIO_CDF,
    P_PROFILE,
    P_RATE_MAX,
    P_TRACE_MODE,
    P_TRACE_PERIOD,
    P_TYPE_CDF,
)
from rl_environments.ticket_routing.core.rng import categorical, exponential, uniform
from rl_environments.ticket_routing.core.typing import FloatArray, UIntArray, njit

NT = 5
NP = 4


@njit(cache=True, inline="always")
def next_poisson_arrival(rng: UIntArray, now: float, p: FloatArray, profile_accept: FloatArray) -> float:
    """Time (hours) of the first arrival after ``now``."""
    t = now
    rate = p[P_RATE_MAX]
    if p[P_PROFILE] == 0.0:
        return t + exponential(rng) / rate
    while True:
        t += exponential(rng) / rate
        if uniform(rng) < profile_accept[int(np.floor(t)) % 168]:
            return t


@njit(cache=True, inline="always")
def draw_type_priority(rng: UIntArray, p: FloatArray) -> tuple[int, int]:
    """Ticket type and priority indices from the configured mixes."""
    ticket_type = categorical(rng, p[P_TYPE_CDF : P_TYPE_CDF + NT])
    priority = categorical(rng, p[P_PRIO_CDF : P_PRIO_CDF + NP])
    return ticket_type, priority


@njit(cache=True, inline="always")
def trace_arrival_time(trace: FloatArray, index: int, shift: float, start: float) -> float:
    """Absolute time of trace entry ``index`` (inf once a non-looping trace is exhausted)."""
    if index >= trace.shape[0]:
        return np.inf
    return start + shift + trace[index, 0]


@njit(cache=True, inline="always")
def advance_trace(trace: FloatArray, index: int, shift: float, p: FloatArray) -> tuple[int, float]:
    """Index and time shift of the entry after ``index`` (wrapping when the trace loops)."""
    index += 1
    if index >= trace.shape[0] and p[P_TRACE_MODE] == 2.0:
        return 0, shift + p[P_TRACE_PERIOD]
    return index, shift
