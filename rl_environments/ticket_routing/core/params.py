"""The configuration compiled into flat arrays for the simulation kernels.

``P`` below names the offsets of the float parameter vector; kernels read ``p[P_...]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import (
    PRIORITIES,
    SERVICE_DISTRIBUTIONS,
    TICKET_TYPES,
    WEEKDAYS,
    EnvironmentConfig,
)
from rl_environments.ticket_routing.core.typing import FloatArray

NT = len(TICKET_TYPES)
NP = len(PRIORITIES)
HOURS_PER_WEEK = 168
# A step (or reset) of one environment may process at most EVENT_WORK_BUDGET // num_agents events
# (each costs O(num_agents)), and never fewer than MIN_EVENT_BUDGET: about a tenth of a second of
# compiled work. A scenario that needs more raises SimulationBudgetError instead of hanging.
EVENT_WORK_BUDGET = 50_000_000
MIN_EVENT_BUDGET = 50_000

# Offsets into the float parameter vector.
P_RATE_PER_HOUR = 0  # mean arrivals per hour
P_RATE_MAX = 1  # thinning envelope (arrivals per hour)
P_PROFILE = 2  # 1 if a weekly profile is used (thinning), else 0
P_TYPE_CDF = 3  # NT values
P_PRIO_CDF = P_TYPE_CDF + NT  # NP values
P_EFFORT = P_PRIO_CDF + NP  # NT base effort hours
P_SLA = P_EFFORT + NT  # NP target hours
P_PRIO_MULT = P_SLA + NP  # NP reward multipliers
P_DIST = P_PRIO_MULT + NP  # 0 exponential, 1 lognormal, 2 deterministic
P_LOG_MU = P_DIST + 1
P_LOG_SIGMA = P_LOG_MU + 1
P_MIN_SPEED = P_LOG_SIGMA + 1
P_SWITCH = P_MIN_SPEED + 1
P_EXP_LO = P_SWITCH + 1
P_EXP_HI = P_EXP_LO + 1
P_SPEC_LO = P_EXP_HI + 1
P_SPEC_HI = P_SPEC_LO + 1
P_N_SPEC = P_SPEC_HI + 1
P_FIXED_EXPERTISE = P_N_SPEC + 1
P_CSAT_INTERCEPT = P_FIXED_EXPERTISE + 1
P_CSAT_EXPERTISE = P_CSAT_INTERCEPT + 1
P_CSAT_SLA_RATIO = P_CSAT_EXPERTISE + 1
P_W_ASSIGN = P_CSAT_SLA_RATIO + 1
P_W_EXPERTISE = P_W_ASSIGN + 1
P_W_RESOLUTION = P_W_EXPERTISE + 1
P_W_IMBALANCE = P_W_RESOLUTION + 1
P_IMBALANCE_THRESHOLD = P_W_IMBALANCE + 1
P_W_INVALID = P_IMBALANCE_THRESHOLD + 1
P_W_REJECTION = P_W_INVALID + 1
P_EXPERT_THRESHOLD = P_W_REJECTION + 1
P_EPISODE_LENGTH = P_EXPERT_THRESHOLD + 1
P_MAX_RETRIES = P_EPISODE_LENGTH + 1
P_START_HOUR = P_MAX_RETRIES + 1
P_MAX_AGE = P_START_HOUR + 1
P_TRACE_MODE = P_MAX_AGE + 1  # 0 generated arrivals, 1 trace replay, 2 trace replay looping
P_TRACE_PERIOD = P_TRACE_MODE + 1  # hours after which a looping trace starts again
P_PRIO_WEIGHT = P_TRACE_PERIOD + 1  # NP attention weights by priority
P_EVENT_BUDGET = P_PRIO_WEIGHT + NP  # events one environment may process in one step or reset
P_W_HOLDING = P_EVENT_BUDGET + 1
P_W_SLA_BREACH = P_W_HOLDING + 1
P_WORK_CAP = P_W_SLA_BREACH + 1  # upper bound of the remaining-work observation (work-hours)
P_RATE_TABLE = P_WORK_CAP + 1  # max_workload + 1 values: an agent's total service rate, by load
P_SIZE = P_RATE_TABLE  # plus max_workload + 1


@dataclass(frozen=True)
class CompiledParams:
    """Arrays the kernels read; built once per configuration."""

    p: FloatArray
    """Float parameters at the ``P_*`` offsets."""
    profile_accept: FloatArray
    """(168,) thinning acceptance probability per hour of week (1 when flat)."""
    schedule: np.ndarray
    """(num_agents, 168) bool: agent online in that hour of week."""
    hours_to_change: FloatArray
    """(168,) hours from the start of an hour of week to the next availability change (inf if never)."""
    online_cum: FloatArray
    """(num_agents, 169) online hours of each agent from Monday 00:00 to the start of each hour of week."""
    agent_change: FloatArray
    """(num_agents, 168) hours from the start of each hour of week to the agent's next change (168 if never)."""
    fixed_expertise: FloatArray
    """(num_agents, NT) expertise used when ``p[P_FIXED_EXPERTISE]`` is 1."""
    trace: FloatArray
    """(T, 3) replayed arrivals: hours since the episode start, type index, priority index."""


def _values(field: object) -> FloatArray:
    """A validated per-type or per-priority config field (a tuple after validation) as an array."""
    return np.asarray(field, dtype=np.float64)


def weekly_intensity(config: EnvironmentConfig) -> FloatArray:
    """(168,) relative arrival intensity per hour of week, mean 1."""
    profile = config.arrivals.weekly_profile
    if profile is None:
        return np.ones(HOURS_PER_WEEK)
    flat: FloatArray = np.asarray(profile, dtype=np.float64).reshape(HOURS_PER_WEEK)
    scaled: FloatArray = flat / flat.mean()
    return scaled


def agent_schedule(config: EnvironmentConfig) -> np.ndarray:
    """(num_agents, 168) bool availability from the shift settings."""
    agents = config.agents
    schedule = np.zeros((config.num_agents, HOURS_PER_WEEK), dtype=np.bool_)
    work_days = [WEEKDAYS.index(d) for d in agents.work_days]
    for a in range(config.num_agents):
        start = (agents.shift_start_hour + a * agents.shift_stagger_hours) % 24
        for day in work_days:
            for h in range(agents.shift_hours):
                schedule[a, (day * 24 + start + h) % HOURS_PER_WEEK] = True
    return schedule


def _hours_to_change(schedule: np.ndarray) -> FloatArray:
    changes = np.any(schedule != np.roll(schedule, 1, axis=1), axis=0)  # change at the start of hour h
    out = np.full(HOURS_PER_WEEK, np.inf)
    if not changes.any():
        return out
    for h in range(HOURS_PER_WEEK):
        for k in range(1, HOURS_PER_WEEK + 1):
            if changes[(h + k) % HOURS_PER_WEEK]:
                out[h] = float(k)
                break
    return out


def remaining_work_cap(config: EnvironmentConfig) -> float:
    """Upper bound of an agent's observed remaining work: a full agent of the slowest speed whose
    tickets each need ten times the largest mean effort (exponential work exceeds that with
    probability e^-10)."""
    return float(config.max_workload * 10.0 * max(_values(config.service.base_effort_hours)) / config.service.min_speed)


def agent_hours_to_change(schedule: np.ndarray) -> FloatArray:
    """(num_agents, 168): hours from the start of each hour of week to that agent's next availability change
    (168 when its availability never changes)."""
    num_agents = schedule.shape[0]
    out = np.full((num_agents, HOURS_PER_WEEK), float(HOURS_PER_WEEK))
    for a in range(num_agents):
        row = schedule[a]
        changes = row != np.roll(row, 1)  # a change at the start of hour h
        if not changes.any():
            continue
        for h in range(HOURS_PER_WEEK):
            for k in range(1, HOURS_PER_WEEK + 1):
                if changes[(h + k) % HOURS_PER_WEEK]:
                    out[a, h] = float(k)
                    break
    return out


def event_budget(num_agents: int) -> int:
    """Events one environment may process in one step or reset (see ``EVENT_WORK_BUDGET``)."""
    return max(MIN_EVENT_BUDGET, EVENT_WORK_BUDGET // max(num_agents, 1))


def compile_params(config: EnvironmentConfig, trace: ArrivalTrace | None = None) -> CompiledParams:
    """Flatten ``config`` (and an optional arrival trace) for the kernels."""
    p = np.zeros(P_SIZE + config.max_workload + 1)
    arrivals, service, reward = config.arrivals, config.service, config.reward
    intensity = weekly_intensity(config)
    p[P_RATE_PER_HOUR] = arrivals.rate_per_day / 24.0
    p[P_RATE_MAX] = p[P_RATE_PER_HOUR] * float(intensity.max())
    p[P_PROFILE] = 0.0 if arrivals.weekly_profile is None else 1.0
    p[P_TYPE_CDF : P_TYPE_CDF + NT] = np.cumsum(_values(arrivals.type_mix))
    p[P_TYPE_CDF + NT - 1] = 1.0
    p[P_PRIO_CDF : P_PRIO_CDF + NP] = np.cumsum(_values(arrivals.priority_mix))
    p[P_PRIO_CDF + NP - 1] = 1.0
    p[P_EFFORT : P_EFFORT + NT] = _values(service.base_effort_hours)
    p[P_SLA : P_SLA + NP] = _values(config.sla.resolution_hours)
    p[P_PRIO_MULT : P_PRIO_MULT + NP] = _values(reward.priority_multipliers)
    p[P_DIST] = SERVICE_DISTRIBUTIONS.index(service.distribution)
    sigma2 = np.log1p(service.cv**2)
    p[P_LOG_SIGMA] = np.sqrt(sigma2)
    p[P_LOG_MU] = -0.5 * sigma2  # unit mean
    p[P_MIN_SPEED] = service.min_speed
    p[P_SWITCH] = service.switching_overhead
    p[P_EXP_LO], p[P_EXP_HI] = config.agents.expertise_range
    p[P_SPEC_LO], p[P_SPEC_HI] = config.agents.specialist_range
    p[P_N_SPEC] = config.agents.specialties_per_agent
    fixed = np.zeros((config.num_agents, NT))
    if config.agents.expertise is not None:
        p[P_FIXED_EXPERTISE] = 1.0
        fixed[:] = np.asarray(config.agents.expertise, dtype=np.float64)
    p[P_CSAT_INTERCEPT] = config.csat.intercept
    p[P_CSAT_EXPERTISE] = config.csat.expertise_coef
    p[P_CSAT_SLA_RATIO] = config.csat.sla_ratio_coef
    p[P_W_ASSIGN] = reward.assignment
    p[P_W_EXPERTISE] = reward.expertise
    p[P_W_RESOLUTION] = reward.resolution
    p[P_W_IMBALANCE] = reward.imbalance
    p[P_IMBALANCE_THRESHOLD] = reward.imbalance_threshold
    p[P_W_INVALID] = reward.invalid_action
    p[P_W_REJECTION] = reward.rejection
    p[P_EXPERT_THRESHOLD] = config.agents.expert_threshold
    p[P_EPISODE_LENGTH] = config.episode_length
    p[P_MAX_RETRIES] = config.max_invalid_retries
    p[P_START_HOUR] = config.start_hour_of_week
    p[P_MAX_AGE] = config.max_ticket_age_hours
    loads = np.arange(1, config.max_workload + 1, dtype=np.float64)
    p[P_RATE_TABLE + 1 :] = 1.0 / (1.0 + service.switching_overhead * (loads - 1.0))
    p[P_PRIO_WEIGHT : P_PRIO_WEIGHT + NP] = _values(service.priority_weights)
    p[P_EVENT_BUDGET] = event_budget(config.num_agents)
    p[P_W_HOLDING] = reward.holding
    p[P_W_SLA_BREACH] = reward.sla_breach
    p[P_WORK_CAP] = remaining_work_cap(config)
    schedule = agent_schedule(config)
    online_cum = np.zeros((config.num_agents, HOURS_PER_WEEK + 1))
    online_cum[:, 1:] = np.cumsum(schedule, axis=1)
    if trace is None:
        trace_arr = np.zeros((0, 3))
    else:
        trace_arr = trace.as_array()
        p[P_TRACE_MODE] = 2.0 if trace.loop else 1.0
        p[P_TRACE_PERIOD] = trace.period_hours
    return CompiledParams(
        p=p,
        profile_accept=intensity / intensity.max(),
        schedule=schedule,
        hours_to_change=_hours_to_change(schedule),
        online_cum=online_cum,
        agent_change=agent_hours_to_change(schedule),
        fixed_expertise=fixed,
        trace=trace_arr,
    )
