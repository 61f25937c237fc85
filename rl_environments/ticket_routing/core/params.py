"""The configuration compiled for the simulation kernels: one named record, :class:`Params`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import (
    SERVICE_DISTRIBUTIONS,
    WEEKDAYS,
    EnvironmentConfig,
)
from rl_environments.ticket_routing.core.state import HOURS_PER_WEEK, NT, TRACE_FIELDS, width
from rl_environments.ticket_routing.core.typing import BoolArray, FloatArray

# A step (or reset) of one environment may process at most EVENT_WORK_BUDGET // num_agents events
# (each costs O(num_agents)), and never fewer than MIN_EVENT_BUDGET: about a tenth of a second of
# compiled work. A scenario that needs more raises SimulationBudgetError instead of hanging.
EVENT_WORK_BUDGET = 50_000_000
MIN_EVENT_BUDGET = 50_000


class Params(NamedTuple):
    """The configuration compiled for the kernels, built once per configuration.

    Fields taken from the configuration are named ``<section>_<field>`` as in
    :class:`EnvironmentConfig`; the others are derived from it.
    """

    # arrivals
    arrival_rate_per_hour: float  # mean arrivals per hour (arrivals.rate_per_day / 24)
    arrival_rate_max: float  # thinning envelope (arrivals per hour)
    arrivals_weekly_profile: bool  # thin the envelope with profile_accept
    arrivals_type_cdf: FloatArray  # (NT,) cumulative arrivals.type_mix
    arrivals_priority_cdf: FloatArray  # (NP,) cumulative arrivals.priority_mix
    profile_accept: FloatArray  # (168,) thinning acceptance probability per hour of week (1 when flat)
    trace_mode: int  # 0 generated arrivals, 1 trace replay, 2 trace replay looping
    trace_period_hours: float  # hours after which a looping trace starts again
    trace: FloatArray  # (T, 3) replayed arrivals: hours since the episode start, type index, priority index
    # service
    service_base_effort_hours: FloatArray  # (NT,)
    service_distribution: int  # index in SERVICE_DISTRIBUTIONS
    service_log_mu: float  # lognormal work: unit mean
    service_log_sigma: float
    service_min_speed: float
    service_priority_weights: FloatArray  # (NP,) attention weights by priority
    service_unit_weights: bool  # every priority weight is 1 (weighted sums need not read priorities)
    service_rate_table: FloatArray  # (max_workload + 1,) an agent's total service rate, by load
    # agents
    agents_expertise_low: float
    agents_expertise_high: float
    agents_specialist_low: float
    agents_specialist_high: float
    agents_specialties_per_agent: int
    agents_expertise_given: bool  # agents.expertise is set: use agents_expertise
    agents_expertise: FloatArray  # (num_agents, NT)
    agents_expert_threshold: float
    schedule: BoolArray  # (num_agents, 168): agent online in that hour of week
    hours_to_change: FloatArray  # (168,) hours to the next availability change of any agent (inf if never)
    online_cum: FloatArray  # (num_agents, 169) online hours from Monday 00:00 to the start of each hour
    agent_change: FloatArray  # (168, num_agents) hours to each agent's next change (168 if never)
    # SLA and CSAT
    sla_resolution_hours: FloatArray  # (NP,)
    csat_intercept: float
    csat_expertise_coef: float
    csat_sla_ratio_coef: float
    # reward
    reward_assignment: float
    reward_expertise: float
    reward_resolution: float
    reward_imbalance: float
    reward_imbalance_threshold: float
    reward_invalid_action: float
    reward_rejection: float
    reward_holding: float
    reward_sla_breach: float
    reward_priority_multipliers: FloatArray  # (NP,)
    # episode
    episode_length: int
    max_invalid_retries: int
    start_hour_of_week: float
    max_ticket_age_hours: float
    event_budget: int  # events one environment may process in one step or reset
    work_cap: float  # upper bound of the remaining-work observation (work-hours)


def _values(field: tuple[float, ...]) -> FloatArray:
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


def compile_params(config: EnvironmentConfig, trace: ArrivalTrace | None = None) -> Params:
    """Compile ``config`` (and an optional arrival trace) for the kernels."""
    arrivals, service, agents, reward = config.arrivals, config.service, config.agents, config.reward
    intensity = weekly_intensity(config)
    rate_per_hour = arrivals.rate_per_day / 24.0
    type_cdf = np.cumsum(_values(arrivals.type_mix))
    type_cdf[-1] = 1.0
    priority_cdf = np.cumsum(_values(arrivals.priority_mix))
    priority_cdf[-1] = 1.0
    sigma2 = np.log1p(service.cv**2)
    rate_table = np.zeros(config.max_workload + 1)
    loads = np.arange(1, config.max_workload + 1, dtype=np.float64)
    rate_table[1:] = 1.0 / (1.0 + service.switching_overhead * (loads - 1.0))
    fixed = np.zeros((config.num_agents, NT))
    if agents.expertise is not None:
        fixed[:] = np.asarray(agents.expertise, dtype=np.float64)
    schedule = agent_schedule(config)
    online_cum = np.zeros((config.num_agents, HOURS_PER_WEEK + 1))
    online_cum[:, 1:] = np.cumsum(schedule, axis=1)
    trace_mode, trace_period, trace_arr = 0, 0.0, np.zeros((0, width(TRACE_FIELDS)))
    if trace is not None:
        trace_arr = trace.as_array()
        trace_mode = 2 if trace.loop else 1
        trace_period = trace.period_hours
    return Params(
        arrival_rate_per_hour=rate_per_hour,
        arrival_rate_max=rate_per_hour * float(intensity.max()),
        arrivals_weekly_profile=arrivals.weekly_profile is not None,
        arrivals_type_cdf=type_cdf,
        arrivals_priority_cdf=priority_cdf,
        profile_accept=intensity / intensity.max(),
        trace_mode=trace_mode,
        trace_period_hours=float(trace_period),
        trace=trace_arr,
        service_base_effort_hours=_values(service.base_effort_hours),
        service_distribution=SERVICE_DISTRIBUTIONS.index(service.distribution),
        service_log_mu=float(-0.5 * sigma2),  # unit mean
        service_log_sigma=float(np.sqrt(sigma2)),
        service_min_speed=float(service.min_speed),
        service_priority_weights=_values(service.priority_weights),
        service_unit_weights=all(w == 1.0 for w in _values(service.priority_weights)),
        service_rate_table=rate_table,
        agents_expertise_low=float(agents.expertise_range[0]),
        agents_expertise_high=float(agents.expertise_range[1]),
        agents_specialist_low=float(agents.specialist_range[0]),
        agents_specialist_high=float(agents.specialist_range[1]),
        agents_specialties_per_agent=int(agents.specialties_per_agent),
        agents_expertise_given=agents.expertise is not None,
        agents_expertise=fixed,
        agents_expert_threshold=float(agents.expert_threshold),
        schedule=schedule,
        hours_to_change=_hours_to_change(schedule),
        online_cum=online_cum,
        agent_change=np.ascontiguousarray(agent_hours_to_change(schedule).T),
        sla_resolution_hours=_values(config.sla.resolution_hours),
        csat_intercept=float(config.csat.intercept),
        csat_expertise_coef=float(config.csat.expertise_coef),
        csat_sla_ratio_coef=float(config.csat.sla_ratio_coef),
        reward_assignment=float(reward.assignment),
        reward_expertise=float(reward.expertise),
        reward_resolution=float(reward.resolution),
        reward_imbalance=float(reward.imbalance),
        reward_imbalance_threshold=float(reward.imbalance_threshold),
        reward_invalid_action=float(reward.invalid_action),
        reward_rejection=float(reward.rejection),
        reward_holding=float(reward.holding),
        reward_sla_breach=float(reward.sla_breach),
        reward_priority_multipliers=_values(reward.priority_multipliers),
        episode_length=int(config.episode_length),
        max_invalid_retries=int(config.max_invalid_retries),
        start_hour_of_week=float(config.start_hour_of_week),
        max_ticket_age_hours=float(config.max_ticket_age_hours),
        event_budget=event_budget(config.num_agents),
        work_cap=remaining_work_cap(config),
    )
