"""Erlang C and square-root staffing for a scenario: what a workforce-management table would say.

Both treat the team as one first-come-first-served queue (M/M/n) of identical agents who work one
ticket at a time at the pool's average speed, and who are all on shift whenever any of them is:

* the offered load is ``a = λ × AHT`` Erlangs, where ``λ`` is the week's arrivals spread over the
  hours some agent is on shift (tickets that arrive off shift are served when the shift starts) and
  AHT is the mean hands-on hours per ticket at the average expertise of the pool (random routing);
* **Erlang C**: the fewest agents on shift ``n`` whose service level, the share of tickets whose wait
  leaves time to resolve them within their priority's SLA target, meets the SLA target:
  ``SL = Σ_p mix_p × (1 - C(n, a) × exp(-(n - a) × max(T_p - AHT, 0) / AHT))``;
* **square-root staffing** (Halfin and Whitt, 1981): ``n = a + β √a`` with ``β`` chosen so that the
  share of tickets that wait at all, ``1 / (1 + β Φ(β) / φ(β))``, is one minus the SLA target.

On-shift needs become a head count through the scenario's shifts: the smallest team whose average
number on shift, over the hours covered, reaches ``n``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.core.params import agent_schedule, weekly_intensity
from rl_environments.ticket_routing.core.state import HOURS_PER_WEEK
from rl_environments.ticket_routing.core.typing import BoolArray, FloatArray, IntArray

MAX_TEAM = 1000
"""The largest team ``EnvironmentConfig`` allows (``num_agents``)."""


def erlang_c(n: int, load: float) -> float:
    """Probability that a ticket waits in an M/M/n queue with offered load ``load`` Erlangs (1 if ``n <= load``)."""
    if load <= 0.0:
        return 0.0
    if n <= load:
        return 1.0
    blocking = 1.0  # Erlang B by its stable recursion, then Erlang C from it
    for k in range(1, n + 1):
        blocking = load * blocking / (k + load * blocking)
    return n * blocking / (n - load * (1.0 - blocking))


def service_level(n: int, load: float, aht: float, windows: FloatArray, mix: FloatArray) -> float:
    """Share of tickets (0-1) whose wait leaves time to resolve them within their priority's window."""
    if load <= 0.0:
        return 1.0
    if n <= load:
        return 0.0
    slack = np.maximum(windows - aht, 0.0) / aht
    return float(np.sum(mix * (1.0 - erlang_c(n, load) * np.exp(-(n - load) * slack))))


def erlang_agents(load: float, aht: float, windows: FloatArray, mix: FloatArray, target: float) -> int:
    """Fewest agents on shift with :func:`service_level` >= ``target`` (0-1); 0 for no load."""
    if load <= 0.0:
        return 0
    n = max(1, math.floor(load) + 1)
    while service_level(n, load, aht, windows, mix) < target and n < 100 * MAX_TEAM:
        n += 1
    return n


def _normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def halfin_whitt_beta(wait_probability: float) -> float:
    """``β`` with ``1 / (1 + β Φ(β) / φ(β)) = wait_probability`` (0 for 1; capped at 6 near 0)."""
    if not 0.0 <= wait_probability <= 1.0:
        raise ValueError(f"wait_probability: invalid value {wait_probability!r}; must lie in [0, 1]")
    if wait_probability >= 1.0:
        return 0.0
    lo, hi = 0.0, 6.0
    if wait_probability <= 1.0 / (1.0 + hi * _normal_cdf(hi) / _normal_pdf(hi)):
        return hi
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if 1.0 / (1.0 + mid * _normal_cdf(mid) / _normal_pdf(mid)) > wait_probability:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _mean_inverse_speed(low: float, high: float, min_speed: float) -> float:
    """E[1 / speed] for expertise uniform on [low, high]; speed = min_speed + (1 - min_speed) e."""
    slope = 1.0 - min_speed
    if slope <= 0.0:
        return 1.0
    if high - low < 1e-12:
        return 1.0 / (min_speed + slope * low)
    return math.log((min_speed + slope * high) / (min_speed + slope * low)) / (slope * (high - low))


def mean_work_hours(config: EnvironmentConfig) -> float:
    """Mean hands-on hours per ticket when any agent of the pool may get it (the AHT of Erlang C)."""
    mix = np.asarray(config.arrivals.type_mix, dtype=np.float64)
    effort = np.asarray(config.service.base_effort_hours, dtype=np.float64)
    m = config.service.min_speed
    agents = config.agents
    if agents.expertise is not None:
        matrix = np.asarray(agents.expertise, dtype=np.float64)
        inverse = (1.0 / (m + (1.0 - m) * matrix)).mean(axis=0)
    else:
        k = agents.specialties_per_agent / len(mix)
        spec = _mean_inverse_speed(*agents.specialist_range, m)
        other = _mean_inverse_speed(*agents.expertise_range, m)
        inverse = np.full(len(mix), k * spec + (1.0 - k) * other)
    return float(np.sum(mix * effort * inverse))


def on_shift_rows(config: EnvironmentConfig, team: int = MAX_TEAM) -> BoolArray:
    """(team, 168): whether agent ``i`` of a team of ``team`` is on shift in each hour of the week."""
    sized = dataclasses.replace(config, num_agents=team, agents=dataclasses.replace(config.agents, expertise=None))
    rows: BoolArray = agent_schedule(sized)
    return rows


def on_shift(config: EnvironmentConfig, team: int) -> IntArray:
    """(168,) number of agents on shift each hour of the week for a team of ``team`` with these shifts."""
    counts: IntArray = on_shift_rows(config, team).sum(axis=0).astype(np.int64)
    return counts


def arrivals_per_hour(config: EnvironmentConfig) -> FloatArray:
    """(168,) expected arrivals in each hour of the week."""
    rate: FloatArray = config.arrivals.rate_per_day / 24.0 * weekly_intensity(config)
    return rate


@dataclass(frozen=True)
class ErlangEstimate:
    """Erlang C and square-root staffing for one scenario and SLA target (see the module docstring)."""

    sla_target_pct: float
    arrivals_per_hour: float
    """Week's arrivals per hour that some agent is on shift (λ)."""
    mean_work_hours: float
    """Mean hands-on hours per ticket (AHT)."""
    offered_load: float
    """λ × AHT, in Erlangs (agents kept busy on average while on shift)."""
    on_shift_erlang_c: int
    on_shift_sqrt: int
    beta: float
    team_erlang_c: int
    """Head count whose shifts put ``on_shift_erlang_c`` agents on shift on average."""
    team_sqrt: int
    off_shift_share: float
    """Share of tickets that arrive while nobody is on shift (for the Erlang C team)."""


def _cumulative_on_shift(config: EnvironmentConfig) -> IntArray:
    """(MAX_TEAM, 168): row ``m - 1`` is the number on shift each hour for a team of ``m`` (agent ``i``'s
    shift does not depend on the team size, so the counts are running sums over agents)."""
    counts: IntArray = np.cumsum(on_shift_rows(config), axis=0, dtype=np.int64)
    return counts


def _team_for(cumulative: IntArray, weekly: float, need: int) -> tuple[int, float]:
    """Smallest head count whose mean number on shift over covered hours is >= ``need``, and the
    week's arrivals per covered hour for that team."""
    team = MAX_TEAM
    for m in range(1, MAX_TEAM + 1):
        row = cumulative[m - 1]
        if row[row > 0].mean() >= need:
            team = m
            break
    return team, weekly / float((cumulative[team - 1] > 0).sum())


def erlang_estimate(config: EnvironmentConfig, sla_target_pct: float) -> ErlangEstimate:
    """Erlang C and square-root staffing for ``config`` at ``sla_target_pct`` % of tickets within SLA."""
    if not 0.0 <= sla_target_pct <= 100.0:
        raise ValueError(f"sla target: invalid value {sla_target_pct!r}; must lie in [0, 100]")
    target = sla_target_pct / 100.0
    aht = mean_work_hours(config)
    windows = np.asarray(config.sla.resolution_hours, dtype=np.float64)
    mix = np.asarray(config.arrivals.priority_mix, dtype=np.float64)
    beta = halfin_whitt_beta(1.0 - target)

    def needs(rate: float) -> tuple[float, int, int]:
        load = rate * aht
        return load, erlang_agents(load, aht, windows, mix, target), math.ceil(load + beta * math.sqrt(load))

    # λ depends on the hours covered, which can grow with the team when shifts are staggered: iterate.
    cumulative = _cumulative_on_shift(config)
    weekly = float(arrivals_per_hour(config).sum())
    _, rate = _team_for(cumulative, weekly, 1)
    for _ in range(20):
        load, n_erlang, n_sqrt = needs(rate)
        team_erlang, new_rate = _team_for(cumulative, weekly, max(n_erlang, 1))
        if abs(new_rate - rate) < 1e-12:
            break
        rate = new_rate
    team_sqrt, _ = _team_for(cumulative, weekly, max(n_sqrt, 1))
    counts = cumulative[team_erlang - 1]
    hourly = arrivals_per_hour(config)
    off = float(hourly[counts == 0].sum() / hourly.sum())
    return ErlangEstimate(
        sla_target_pct=sla_target_pct,
        arrivals_per_hour=rate,
        mean_work_hours=aht,
        offered_load=load,
        on_shift_erlang_c=n_erlang,
        on_shift_sqrt=n_sqrt,
        beta=beta,
        team_erlang_c=team_erlang,
        team_sqrt=team_sqrt,
        off_shift_share=off,
    )


def hourly_needs(config: EnvironmentConfig, sla_target_pct: float) -> IntArray:
    """(168,) agents needed on shift in each hour of the week by Erlang C on that hour's own arrivals."""
    target = sla_target_pct / 100.0
    aht = mean_work_hours(config)
    windows = np.asarray(config.sla.resolution_hours, dtype=np.float64)
    mix = np.asarray(config.arrivals.priority_mix, dtype=np.float64)
    loads = arrivals_per_hour(config) * aht
    out = np.zeros(HOURS_PER_WEEK, dtype=np.int64)
    for h, load in enumerate(loads):
        out[h] = erlang_agents(float(load), aht, windows, mix, target)
    return out
