"""Fitting a scenario (an :class:`EnvironmentConfig`) to a ticket log."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import yaml

from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES, WEEKDAYS, EnvironmentConfig
from rl_environments.ticket_routing.core.params import agent_schedule, weekly_intensity
from rl_environments.ticket_routing.core.service import agent_speed
from rl_environments.ticket_routing.core.state import HOURS_PER_WEEK
from rl_environments.ticket_routing.traces.errors import FitError
from rl_environments.ticket_routing.traces.log import HOUR, TicketLog
from rl_environments.ticket_routing.traces.team import MIN_SAMPLE, TeamFit, fit_effort, fit_team, fit_warnings

MAX_AGENTS = 1000
"""The largest team :class:`EnvironmentConfig` allows (``num_agents``)."""
MAX_SLA_HOURS = 1e5
"""The largest SLA target :class:`EnvironmentConfig` allows (``sla.resolution_hours``)."""


@dataclass(frozen=True)
class ScenarioFit:
    """Estimates from a log, the sample sizes behind them, and the resulting config."""

    config: EnvironmentConfig
    source: str
    start: pd.Timestamp
    end: pd.Timestamp
    tickets: int
    left_out: int
    """Tickets of the log opened outside the window."""
    rate_per_day: float
    weekday_counts: tuple[int, ...]
    hour_counts: tuple[int, ...]
    type_counts: dict[str, int]
    priority_counts: dict[str, int]
    sla_quantile: float
    sla_samples: dict[str, int]
    sla_fitted: dict[str, bool]
    offered_load: float
    """Agent-hours of work per hour at the mean rate, under random routing."""
    target_utilization: float
    team_given: bool = False
    notes: tuple[str, ...] = ()
    team_fit: TeamFit | None = None
    effort_samples: dict[str, int] = field(default_factory=dict)
    """Tickets behind each type's fitted effort (empty: effort not fitted)."""
    effort_method: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def days(self) -> float:
        return float((self.end - self.start) / pd.Timedelta(days=1))

    def summary(self) -> str:
        cfg = self.config
        arr = cfg.arrivals
        n = self.tickets
        lines = [
            f"Scenario fitted from {self.source}",
            f"  window: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} ({self.days:.1f} days), "
            f"{n:,} tickets ({self.left_out:,} of the log outside it)",
            f"  arrival rate: {arr.rate_per_day:.2f} tickets/day (n = {n:,} tickets / {self.days:.1f} days)",
        ]
        per_day = ", ".join(f"{d[:3]} {c:,}" for d, c in zip(WEEKDAYS, self.weekday_counts, strict=True))
        lines.append(f"  weekly profile (7 x 24, mean 1): tickets per weekday {per_day}")
        if arr.weekly_profile is not None:
            prof = np.asarray(arr.weekly_profile)
            d, h = np.unravel_index(int(np.argmax(prof)), prof.shape)
            lines.append(f"    peak {WEEKDAYS[d][:3]} {h:02d}:00 at {prof[d, h]:.2f} x the mean; hourly shares (%):")
            shares = 100.0 * np.asarray(self.hour_counts) / max(n, 1)
            lines.append("    " + " ".join(f"{h:02d}:{s:.1f}" for h, s in enumerate(shares)))
        lines.append("  type mix: " + _mix_text(TICKET_TYPES, arr.type_mix, self.type_counts))
        lines.append("  priority mix: " + _mix_text(PRIORITIES, arr.priority_mix, self.priority_counts))
        sla = ", ".join(
            f"{p} {h:.1f} h (n = {self.sla_samples[p]:,}{'' if self.sla_fitted[p] else ', no data: kept'})"
            for p, h in zip(PRIORITIES, cfg.sla.resolution_hours, strict=True)
        )
        lines.append(f"  SLA targets ({100 * self.sla_quantile:.0f}th percentile of resolution hours): {sla}")
        if self.team_fit is not None:
            lines.append(self.team_fit.summary() + (f"; {cfg.num_agents} agents given" if self.team_given else ""))
        elif self.team_given:
            lines.append(f"  team: {cfg.num_agents} agents (given)")
        else:
            lines.append(
                f"  team: {cfg.num_agents} agents (sizing rule, not from the log: random routing keeps "
                f"{self.offered_load:.1f} agents busy on these shifts / target utilisation "
                f"{self.target_utilization:.2f}); "
                f"episode_length {cfg.episode_length} decisions (at least a week of tickets)"
            )
        if self.effort_samples:
            n_of = self.effort_samples
            efforts = ", ".join(
                f"{t} {h:.2f} h (n = {n_of[t]:,}{'' if n_of[t] >= MIN_SAMPLE else ': kept'})"
                for t, h in zip(TICKET_TYPES, cfg.service.base_effort_hours, strict=True)
            )
            lines.append(f"  service effort (expert hours; {self.effort_method}): {efforts}")
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_yaml(self, path: str | Path | None = None, header: str = "") -> str:
        """The config as YAML listing only what differs from the defaults, with ``header`` comments."""
        text = header + yaml.safe_dump(self.config.changes(), sort_keys=False, default_flow_style=None, width=120)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _mix_text(names: tuple[str, ...], mix: tuple[float, ...], counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v:.4f} (n = {counts[k]:,})" for k, v in zip(names, mix, strict=True))


def _rounded_mix(counts: np.ndarray, digits: int = 4) -> list[float]:
    """Shares rounded to ``digits`` that still sum to exactly 1 (the largest absorbs the rounding)."""
    shares = counts / counts.sum()
    rounded = np.round(shares, digits)
    big = int(np.argmax(rounded))
    rounded[big] = round(1.0 - float(rounded.sum() - rounded[big]), digits)
    return [float(v) for v in rounded]


def active_window(log: TicketLog, min_share: float = 0.1) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Whole days from the first to the last day with at least ``min_share`` times the busiest week's
    mean daily count (and at least one ticket): trims the sparse tails that real exports often have."""
    daily = log.counts("D", log.opened.iloc[0].floor("D"), log.opened.iloc[-1].floor("D") + pd.Timedelta(days=1))
    busiest = float(daily.rolling(7, min_periods=1).mean().max())
    busy = daily[daily >= max(min_share * busiest, 1.0)]
    return busy.index[0], busy.index[-1] + pd.Timedelta(days=1)


def offline_backlog(config: EnvironmentConfig) -> float:
    """Expected arrivals in the longest stretch of the week when no agent is online."""
    online: np.ndarray = np.asarray(agent_schedule(config).any(axis=0))
    if online.all():
        return 0.0
    expected = config.arrivals.rate_per_day / 24.0 * weekly_intensity(config)
    first = int(np.argmax(online))  # walk the week starting at an online hour so runs do not wrap
    best = run = 0.0
    for k in range(1, HOURS_PER_WEEK + 1):
        h = (first + k) % HOURS_PER_WEEK
        run = 0.0 if online[h] else run + float(expected[h])
        best = max(best, run)
    return best


def estimate_scenario(
    log: TicketLog,
    *,
    start: object = None,
    end: object = None,
    base: EnvironmentConfig | None = None,
    sla_quantile: float = 0.8,
    num_agents: int | None = None,
    target_utilization: float = 0.7,
    from_log: bool = True,
) -> ScenarioFit:
    """Estimate a scenario from ``log`` over ``[start, end)`` (default: :func:`active_window`).

    Arrival rate = tickets / days; weekly profile = tickets per (weekday, hour) divided by how often
    that hour occurs in the window, scaled to mean 1; type and priority mixes = shares; SLA target of
    each priority = the ``sla_quantile`` quantile of its resolution hours. Other settings come from
    ``base``; unless ``num_agents`` is given, the team is sized so that the offered work under random
    routing fills ``target_utilization`` of its online hours, and an episode lasts at least a week of
    decisions. The queue is enlarged to twice the tickets expected while no agent is online.

    With ``from_log`` (the default) the team size and shifts come from the assignees' activity and
    the service effort per type from the resolution times, where the log has them (see
    :mod:`.team` for the methods and their limits); ``num_agents`` still overrides the team size.
    """
    if isinstance(sla_quantile, bool) or not isinstance(sla_quantile, int | float) or not 0.0 < sla_quantile <= 1.0:
        raise ValueError(f"sla_quantile: invalid value {sla_quantile!r}; must lie in (0, 1]")
    if not 0.0 < target_utilization <= 1.0:
        raise ValueError(f"target_utilization: invalid value {target_utilization!r}; must lie in (0, 1]")
    base = base or EnvironmentConfig()
    if start is None and end is None:
        lo, hi = active_window(log)
    else:
        lo, hi = log.bounds(start, end)
    window = log.between(lo, hi).tickets
    n = len(window)
    days = float((hi - lo) / pd.Timedelta(days=1))
    notes: list[str] = []
    hours = pd.date_range(lo, hi - HOUR, freq="h")
    exposure = np.bincount(hours.day_of_week * 24 + hours.hour, minlength=168).astype(np.float64)
    opened = window["opened_at"]
    how = (opened.dt.day_of_week * 24 + opened.dt.hour).to_numpy()
    counts = np.bincount(how, minlength=168).astype(np.float64)
    profile: list[list[float]] | None = None
    if exposure.min() > 0:
        intensity = counts / exposure
        intensity = intensity / intensity.mean()
        profile = [[round(float(v), 4) for v in intensity[d * 24 : d * 24 + 24]] for d in range(7)]
    else:
        notes.append("window shorter than a week: no weekly profile fitted (flat arrivals)")
    type_counts = {t: int((window["ticket_type"] == t).sum()) for t in TICKET_TYPES}
    prio_counts = {p: int((window["priority"] == p).sum()) for p in PRIORITIES}
    type_mix = _rounded_mix(np.array([type_counts[t] for t in TICKET_TYPES], dtype=np.float64))
    prio_mix = _rounded_mix(np.array([prio_counts[p] for p in PRIORITIES], dtype=np.float64))
    res_hours = (window["resolved_at"] - window["opened_at"]) / HOUR
    sla: list[float] = []
    sla_n: dict[str, int] = {}
    sla_fit: dict[str, bool] = {}
    for p, default in zip(PRIORITIES, base.sla.resolution_hours, strict=True):
        sample = res_hours[(window["priority"] == p) & res_hours.notna()]
        sla_n[p] = len(sample)
        sla_fit[p] = len(sample) > 0
        if not len(sample):
            sla.append(float(default))
            continue
        target = max(round(float(sample.quantile(sla_quantile)), 1), 0.1)
        if target > MAX_SLA_HOURS:
            notes.append(
                f"SLA target of {p} capped at {MAX_SLA_HOURS:,.0f} h (the config's maximum): the log's "
                f"{100 * sla_quantile:.0f}th percentile is {target:,.0f} h ({target / 8766:,.0f} years; "
                "check the resolved_at column or its timestamp_format)"
            )
            target = MAX_SLA_HOURS
        sla.append(target)
    rate = n / days
    mix = np.asarray(type_mix)
    agents = base.agents
    if agents.expertise is not None:
        mean_expertise = float(np.mean(agents.expertise))
    else:
        k = agents.specialties_per_agent / len(TICKET_TYPES)
        mean_expertise = k * float(np.mean(agents.specialist_range)) + (1 - k) * float(np.mean(agents.expertise_range))
    speed = agent_speed(mean_expertise, base.service.min_speed)
    team_fit = fit_team(log.activity, lo, hi) if from_log else None
    effort = base.service.base_effort_hours
    effort_n: dict[str, int] = {}
    effort_method = ""
    if from_log and (window["resolved_at"].notna().any() or window["work_hours"].notna().any()):
        effort, effort_n, effort_method = fit_effort(window, effort, speed)
    work = float(mix @ np.asarray(effort)) / speed
    shift_hours, work_days = (team_fit.shift_hours, team_fit.work_days) if team_fit else (0, ())
    online = (shift_hours or agents.shift_hours) * len(work_days or agents.work_days) / 168.0
    load = rate / 24.0 * work / min(online, 1.0)
    if num_agents is not None:
        team = num_agents
    elif team_fit is not None:
        team = team_fit.agents
    else:
        team = max(1, math.ceil(load / target_utilization))
    if team > MAX_AGENTS:
        if num_agents is None and team_fit is not None:
            why = f"the log shows {team:,} people active in a median week"
        else:
            why = f"this window needs about {team:,} agents to keep utilisation at {target_utilization:.2f}"
        raise FitError(
            f"{why} ({rate:,.0f} tickets/day), more than the environment's {MAX_AGENTS:,}; fit a part of the "
            f"stream (one queue or team), or pass --num-agents {MAX_AGENTS} (num_agents=) to accept a busier "
            "team, or a higher --target-utilization",
            source=log.source,
        )
    changes: dict[str, Any] = {
        "arrivals": {
            "rate_per_day": round(rate, 2),
            "type_mix": type_mix,
            "priority_mix": prio_mix,
            "weekly_profile": profile,
        },
        "sla": {"resolution_hours": sla},
    }
    changes["num_agents"] = team
    if team_fit is not None:
        changes["agents"] = {
            "shift_start_hour": team_fit.shift_start_hour,
            "shift_hours": team_fit.shift_hours,
            "work_days": list(team_fit.work_days),
            "shift_stagger_hours": 0,
        }
    if any(n >= MIN_SAMPLE for n in effort_n.values()):
        changes["service"] = {"base_effort_hours": list(effort)}
    warnings = fit_warnings(window, log.counts("D", lo, hi), counts, exposure, sla_n)
    if load / team > 1.0:
        warnings.append(
            f"the team cannot keep up: {load:.1f} agents' worth of work arrives per online hour for {team} agents "
            f"(utilisation {load / team:.2f} under random routing); the effort estimate holds waiting time, or pass "
            "--num-agents"
        )
    if num_agents is None:
        changes["episode_length"] = max(base.episode_length, math.ceil(7 * rate))
    if base.agents.expertise is not None and team != base.num_agents:
        changes.setdefault("agents", {})["expertise"] = None
        notes.append("the base config's fixed expertise matrix was dropped because the team size changed")
    config = base.replace(**changes)
    backlog = offline_backlog(config)
    if 2.0 * backlog > config.max_queue_size:
        config = config.replace(max_queue_size=math.ceil(2.0 * backlog))
        notes.append(
            f"max_queue_size {config.max_queue_size}: twice the {backlog:.0f} tickets expected while no agent is online"
        )
    return ScenarioFit(
        config=config,
        source=log.source,
        start=lo,
        end=hi,
        tickets=n,
        left_out=len(log) - n,
        rate_per_day=rate,
        weekday_counts=tuple(int(c) for c in counts.reshape(7, 24).sum(axis=1)),
        hour_counts=tuple(int(c) for c in counts.reshape(7, 24).sum(axis=0)),
        type_counts=type_counts,
        priority_counts=prio_counts,
        sla_quantile=sla_quantile,
        sla_samples=sla_n,
        sla_fitted=sla_fit,
        offered_load=load,
        target_utilization=target_utilization,
        team_given=num_agents is not None,
        notes=tuple(notes),
        team_fit=team_fit,
        effort_samples=effort_n,
        effort_method=effort_method,
        warnings=tuple(warnings),
    )


def fit_scenario(log: TicketLog, *, out: TextIO | None = None, **options: Any) -> EnvironmentConfig:
    """Estimate an :class:`EnvironmentConfig` from ``log`` and print the estimates with their sample
    sizes to ``out`` (default stdout). ``options`` go to :func:`estimate_scenario`."""
    fit = estimate_scenario(log, **options)
    print(log.report.summary(), file=out or sys.stdout)
    print(fit.summary(), file=out or sys.stdout)
    return fit.config
