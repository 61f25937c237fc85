"""The smallest team that meets service targets, found by simulation, with Erlang C beside it.

A team size *meets* the targets when, over ``episodes`` seeded episodes (episode ``k`` uses seed
``seed + k`` for every team size: common random numbers), the lower end of the 95% confidence
interval of SLA % and of CSAT % is at or above its target, and the upper end of the interval of the
p90 resolution hours is below its target. The search brackets the answer between a team size that
fails and one that meets, starting from the Erlang C estimate, and narrows the bracket by trying
``probes`` team sizes per round (run side by side by the backend), so it takes a few rounds of
evaluations rather than one per team size. It assumes that a larger team does not do worse.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.planning.backends import Backend, SerialBackend
from rl_environments.ticket_routing.planning.erlang import MAX_TEAM, ErlangEstimate, erlang_estimate
from rl_environments.ticket_routing.planning.tasks import Task

SLA_KPI = "sla_compliance_pct"
CSAT_KPI = "csat_pct"
P90_KPI = "p90_resolution_hours"
PLAN_KPIS: tuple[str, ...] = (
    SLA_KPI,
    CSAT_KPI,
    P90_KPI,
    "mean_resolution_hours",
    "mean_utilization_pct",
    "expertise_match_pct",
    "tickets_rejected",
)
"""KPIs reported for every team size tried (means and 95% CIs)."""


@dataclass(frozen=True)
class Targets:
    """Service targets: percentages in [0, 100], hours > 0; ``None`` means no target."""

    sla_pct: float | None = None
    """SLA % (``sla_compliance_pct``): the lower end of its 95% CI must reach it."""
    csat_pct: float | None = None
    """CSAT % (``csat_pct``): the lower end of its 95% CI must reach it."""
    p90_hours: float | None = None
    """p90 resolution hours: the upper end of its 95% CI must be below it."""

    def __post_init__(self) -> None:
        for name in ("sla_pct", "csat_pct"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 100.0
            ):
                raise ValueError(f"targets.{name}: invalid value {value!r}; must lie in [0, 100]")
        hours = self.p90_hours
        if hours is not None and (
            isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0.0 < hours < math.inf
        ):
            raise ValueError(f"targets.p90_hours: invalid value {hours!r}; must be a number of hours > 0")
        if self.sla_pct is None and self.csat_pct is None and self.p90_hours is None:
            raise ValueError("targets: none given; set at least one of sla_pct, csat_pct, p90_hours")

    def checks(self) -> list[tuple[str, str, float]]:
        """``(kpi, "low" or "high", target)`` for each target set."""
        out: list[tuple[str, str, float]] = []
        if self.sla_pct is not None:
            out.append((SLA_KPI, "low", float(self.sla_pct)))
        if self.csat_pct is not None:
            out.append((CSAT_KPI, "low", float(self.csat_pct)))
        if self.p90_hours is not None:
            out.append((P90_KPI, "high", float(self.p90_hours)))
        return out

    def describe(self) -> str:
        parts = [f"SLA >= {self.sla_pct:g}%" if self.sla_pct is not None else ""]
        parts.append(f"CSAT >= {self.csat_pct:g}%" if self.csat_pct is not None else "")
        parts.append(f"p90 resolution < {self.p90_hours:g} h" if self.p90_hours is not None else "")
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class TeamRun:
    """The outcome of one team size: KPI means with 95% CIs, and whether it meets the targets."""

    num_agents: int
    kpis: dict[str, tuple[float, float, float]]
    """KPI -> (mean, ci95_low, ci95_high)."""
    meets: bool
    shortfall: float
    """Largest relative miss over the targets (0 when it meets them)."""
    round: int
    """Search round in which it was tried (1 = first)."""


@dataclass(frozen=True)
class PlanResult:
    """What :func:`plan_staffing` found."""

    config: EnvironmentConfig
    policy: str
    targets: Targets
    episodes: int
    seed: int
    min_agents: int
    max_agents: int
    runs: tuple[TeamRun, ...]
    """Every team size tried, in the order tried."""
    answer: TeamRun | None
    """The smallest team that meets the targets (``None`` if none in the range does)."""
    best: TeamRun
    """The answer, or else the team size that came closest."""
    erlang: ErlangEstimate
    notes: tuple[str, ...] = field(default=())

    @property
    def episodes_run(self) -> int:
        return len(self.runs) * self.episodes

    def runs_table(self) -> pd.DataFrame:
        """One row per team size tried (sorted by team size): round, meets, and each KPI's mean and CI."""
        rows: list[dict[str, Any]] = []
        for run in sorted(self.runs, key=lambda r: r.num_agents):
            row: dict[str, Any] = {"num_agents": run.num_agents, "round": run.round, "meets": run.meets}
            for kpi, (mean, low, high) in run.kpis.items():
                row[kpi] = mean
                row[f"{kpi}_ci95_low"] = low
                row[f"{kpi}_ci95_high"] = high
            rows.append(row)
        table: pd.DataFrame = pd.DataFrame(rows)
        return table

    def explanation(self) -> str:
        """One sentence on why the simulated team differs from the Erlang C team."""
        return explain(self)


class TargetUnreachableError(ValueError):
    """No team size in the searched range meets the targets; ``result.best`` came closest."""

    def __init__(self, result: PlanResult) -> None:
        best = result.best
        super().__init__(
            f"targets ({result.targets.describe()}) not met by any team of {result.min_agents}-{result.max_agents} "
            f"agents with {result.policy} (the lower end of each 95% interval must reach its target); best found: "
            f"{best.num_agents} agents with {_kpi_text(best)}; raise --max-agents or relax the targets"
        )
        self.result = result


def _kpi_text(run: TeamRun) -> str:
    parts = []
    for kpi, label, unit in ((SLA_KPI, "SLA", "%"), (CSAT_KPI, "CSAT", "%"), (P90_KPI, "p90", " h")):
        mean, low, high = run.kpis.get(kpi, (math.nan, math.nan, math.nan))
        parts.append(f"{label} {mean:.1f}{unit} [{low:.1f}, {high:.1f}]")
    return ", ".join(parts)


def assess(targets: Targets, kpis: dict[str, tuple[float, float, float]]) -> tuple[bool, float]:
    """Whether ``kpis`` meet ``targets`` (NaN never does), and the largest relative shortfall."""
    shortfall = 0.0
    for kpi, end, target in targets.checks():
        _, low, high = kpis[kpi]
        value = low if end == "low" else high
        if math.isnan(value):
            miss = math.inf
        elif end == "low":
            miss = max(0.0, (target - value) / max(target, 1e-9))
        else:
            miss = 0.0 if value < target else (value - target) / target + 1e-9
        shortfall = max(shortfall, miss)
    return shortfall == 0.0, shortfall


def _summarize(rows: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    from rl_environments.ticket_routing.evaluation import summarize

    tidy = summarize(pd.DataFrame(rows), list(PLAN_KPIS))
    columns = [tidy[c].to_numpy(dtype=float) for c in ("mean", "ci95_low", "ci95_high")]
    return {
        str(kpi): (float(mean), float(low), float(high))
        for kpi, mean, low, high in zip(tidy["kpi"], *columns, strict=True)
    }


def _probes(lo: int, hi: int, count: int, lo_known: bool, hi_known: bool, step: int) -> list[int]:
    """Up to ``count`` team sizes strictly between ``lo`` (fails) and ``hi`` (meets) to try next.

    With one side of the bracket still open, gallop away from the known side (``step``, ``2 step``...);
    with both known, spread the tries evenly (bisection for one try per round).
    """
    inside = range(lo + 1, hi)
    if len(inside) <= count:
        return list(inside)
    if hi_known and not lo_known:
        picks = {max(lo + 1, hi - step * (j + 1)) for j in range(count)}
    elif lo_known and not hi_known:
        picks = {min(hi - 1, lo + step * (j + 1)) for j in range(count)}
    else:
        width = (hi - lo) / (count + 1)
        picks = {min(max(lo + 1, round(lo + width * (j + 1))), hi - 1) for j in range(count)}
    return sorted(picks)


def plan_staffing(
    config: EnvironmentConfig,
    policy: str,
    targets: Targets,
    *,
    episodes: int = 20,
    seed: int = 0,
    min_agents: int = 1,
    max_agents: int | None = None,
    probes: int = 1,
    backend: Backend | None = None,
    on_run: Callable[[TeamRun], None] | None = None,
    scenario: str | None = None,
) -> PlanResult:
    """The smallest ``num_agents`` in ``[min_agents, max_agents]`` for which ``policy`` meets ``targets``.

    ``max_agents`` defaults to twice the Erlang C team plus 10 (at most 1000). Raises
    :class:`TargetUnreachableError` (carrying the result, with the closest team) when no team
    size in the range meets the targets. ``on_run`` is called after each team size is evaluated.
    """
    from rl_environments.ticket_routing.policies import make_policy

    make_policy(policy, config)  # names an unknown policy before any run
    for name, value, low in (("episodes", episodes, 2), ("seed", seed, 0), ("probes", probes, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: invalid value {value!r}; must be an integer >= {low}")
    notes: list[str] = []
    if config.agents.expertise is not None:
        config = config.replace(agents={"expertise": None})
        notes.append("the fixed expertise matrix was dropped so the team size can vary (expertise is drawn)")
    erlang = erlang_estimate(config, targets.sla_pct if targets.sla_pct is not None else 80.0)
    if max_agents is None:
        max_agents = min(MAX_TEAM, 2 * erlang.team_erlang_c + 10)
    if isinstance(min_agents, bool) or not isinstance(min_agents, int) or not 1 <= min_agents <= MAX_TEAM:
        raise ValueError(f"min_agents: invalid value {min_agents!r}; must be an integer between 1 and {MAX_TEAM}")
    if isinstance(max_agents, bool) or not isinstance(max_agents, int) or not min_agents <= max_agents <= MAX_TEAM:
        raise ValueError(
            f"max_agents: invalid value {max_agents!r}; must be an integer between min_agents ({min_agents}) "
            f"and {MAX_TEAM}"
        )
    runner = backend if backend is not None else SerialBackend()
    tried: dict[int, TeamRun] = {}
    lo, hi = min_agents - 1, max_agents + 1  # lo fails, hi meets (both virtual until tried)
    start = min(max(erlang.team_erlang_c, min_agents), max_agents)
    step, rounds = 1, 0
    while hi - lo > 1:
        lo_known, hi_known = lo >= min_agents, hi <= max_agents
        if rounds == 0:
            around = [start + d * sign for d in range(1, probes) for sign in (-1, 1)]
            sizes = sorted(list(dict.fromkeys([start, *(n for n in around if min_agents <= n <= max_agents)]))[:probes])
        else:
            sizes = _probes(lo, hi, probes, lo_known, hi_known, step)
            step *= 2
        rounds += 1
        tasks = [Task(config.replace(num_agents=n).to_dict(), policy, episodes, seed, scenario) for n in sizes]
        for index, rows in runner.run(tasks):
            kpis = _summarize(rows)
            meets, shortfall = assess(targets, kpis)
            run = TeamRun(sizes[index], kpis, meets, shortfall, rounds)
            tried[run.num_agents] = run
            if on_run is not None:
                on_run(run)
        for n in sizes:
            if tried[n].meets:
                hi = min(hi, n)
        lo = max([lo, *(n for n in sizes if not tried[n].meets and n < hi)])
    runs = tuple(tried.values())
    answer = tried.get(hi) if hi <= max_agents else None
    best = answer or min(runs, key=lambda r: (r.shortfall, r.num_agents))
    result = PlanResult(
        config=config,
        policy=policy,
        targets=targets,
        episodes=episodes,
        seed=seed,
        min_agents=min_agents,
        max_agents=max_agents,
        runs=runs,
        answer=answer,
        best=best,
        erlang=erlang,
        notes=tuple(notes),
    )
    if answer is None:
        raise TargetUnreachableError(result)
    return result


def explain(result: PlanResult) -> str:
    """One sentence on why the simulated answer and the Erlang C team differ."""
    sim, erl = result.best.num_agents, result.erlang.team_erlang_c
    cfg = result.config
    match = result.best.kpis.get("expertise_match_pct", (math.nan,) * 3)[0]
    diff = sim - erl
    if diff == 0:
        verdict = "so the two agree here"
    elif diff < 0:
        verdict = f"and here these effects let the simulated team be {-diff} smaller"
    else:
        verdict = f"and here these effects make the simulated team {diff} larger"
    binding = "" if result.targets.sla_pct is not None else " (Erlang C sees no CSAT or p90 target: it used 80% SLA)"
    return (
        f"Erlang C{binding} assumes one first-come-first-served queue of identical agents working one ticket at a "
        f"time at the pool's average speed ({result.erlang.mean_work_hours:.2f} h a ticket), whereas the "
        f"simulation lets {result.erlang.off_shift_share:.0%} of tickets wait for the next shift, lets each agent "
        f"juggle up to {cfg.max_workload} tickets with a {cfg.service.switching_overhead:.0%} switching cost, and "
        f"lets {result.policy} send {match:.0f}% of tickets to specialists, {verdict}."
    )
