"""Runs behind the Planner page: the staffing answer for targets, and a what-if sweep around it.

Thin wrappers over :mod:`rl_environments.ticket_routing.planning`; the page adds the widgets.
Everything runs in the dashboard's own process (the serial backend).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.planning.staffing import (
    PLAN_KPIS,
    PlanResult,
    Targets,
    TargetUnreachableError,
    TeamRun,
    plan_staffing,
)
from rl_environments.ticket_routing.planning.sweep import Param, SweepResult, SweepSpec, parse_values, run_sweep

Progress = Callable[[float, str], None]
"""``progress(fraction done, label)``."""
RATE_FIELD = "arrivals.rate_per_day"
SWEEP_KPIS: tuple[str, ...] = ("sla_compliance_pct", "csat_pct", "p90_resolution_hours", "mean_utilization_pct")


def find_team(
    config: EnvironmentConfig,
    policy: str,
    targets: Targets,
    *,
    episodes: int,
    seed: int,
    min_agents: int = 1,
    max_agents: int | None = None,
    progress: Progress | None = None,
) -> tuple[PlanResult, str | None]:
    """The plan, and ``None`` or the message saying that no team in the range meets the targets."""
    tried: list[TeamRun] = []

    def step(run: TeamRun) -> None:
        tried.append(run)
        if progress is not None:
            progress(min(0.95, len(tried) / 8), f"Tried {run.num_agents} agents: {'meets' if run.meets else 'misses'}")

    try:
        result = plan_staffing(
            config,
            policy,
            targets,
            episodes=episodes,
            seed=seed,
            min_agents=min_agents,
            max_agents=max_agents,
            on_run=step,
        )
    except TargetUnreachableError as exc:
        return exc.result, str(exc)
    finally:
        if progress is not None:
            progress(1.0, "Done.")
    return result, None


def _ci(kpis: dict[str, tuple[float, float, float]], kpi: str) -> str:
    mean, low, high = kpis.get(kpi, (math.nan,) * 3)
    return "–" if math.isnan(mean) else f"{mean:.1f} [{low:.1f}, {high:.1f}]"


def answer_table(result: PlanResult) -> pd.DataFrame:
    """The KPIs of the answer (or the closest team): mean [95% CI], the target and whether it is met."""
    targets = {kpi: (end, value) for kpi, end, value in result.targets.checks()}
    rows = []
    for kpi in PLAN_KPIS:
        _, low, high = result.best.kpis[kpi]
        check = targets.get(kpi)
        if check is None:
            target, met = "", ""
        elif check[0] == "low":
            target, met = f"≥ {check[1]:g}", "yes" if low >= check[1] else "no"
        else:
            target, met = f"< {check[1]:g}", "yes" if high < check[1] else "no"
        rows.append({"KPI": kpi, "mean [95% CI]": _ci(result.best.kpis, kpi), "target": target, "met": met})
    table: pd.DataFrame = pd.DataFrame(rows).set_index("KPI")
    return table


def runs_table(result: PlanResult) -> pd.DataFrame:
    """Every team size tried: the search round, SLA / CSAT / p90 with CIs, and whether it meets the targets."""
    rows = [
        {
            "agents": run.num_agents,
            "round": run.round,
            "SLA %": _ci(run.kpis, "sla_compliance_pct"),
            "CSAT %": _ci(run.kpis, "csat_pct"),
            "p90 resolution h": _ci(run.kpis, "p90_resolution_hours"),
            "meets": "yes" if run.meets else "no",
        }
        for run in sorted(result.runs, key=lambda r: r.num_agents)
    ]
    table: pd.DataFrame = pd.DataFrame(rows).set_index("agents")
    return table


def team_sizes(start: int, stop: int, step: int) -> tuple[int, ...]:
    """``start, start + step, ... <= stop``; a named error for an empty or invalid range."""
    if step < 1:
        raise ValueError(f"team size step: invalid value {step}; must be >= 1")
    if not 1 <= start <= stop:
        raise ValueError(f"team sizes: invalid range {start}..{stop}; need 1 <= from <= to")
    return tuple(range(start, stop + 1, step))


def parse_rates(text: str) -> tuple[Any, ...]:
    """Arrival rates typed as ``30, 42, 54`` (or a range ``30:60:10``)."""
    return parse_values(RATE_FIELD, text)


def what_if(
    config: EnvironmentConfig,
    policy: str,
    sizes: Sequence[int],
    rates: Sequence[Any],
    *,
    seeds: int,
    seed: int,
    progress: Progress | None = None,
) -> SweepResult:
    """A sweep over team size x arrival rate for ``policy`` (results kept in memory, not on disk)."""
    spec = SweepSpec(
        config, (Param("num_agents", tuple(sizes)), Param(RATE_FIELD, tuple(rates))), (policy,), seeds, seed
    )
    total = spec.num_cells

    def done(cells: int) -> None:
        if progress is not None:
            progress(cells / total, f"{cells} of {total} cells")

    with tempfile.TemporaryDirectory(prefix="planner-sweep-") as folder:
        result = run_sweep(spec, folder, on_task_done=done)
    if progress is not None:
        progress(1.0, "Done.")
    return result


def band_frame(result: SweepResult, kpi: str) -> pd.DataFrame:
    """``num_agents``, ``tickets per day``, mean, ci95_low and ci95_high of ``kpi`` (for charts).

    The band is clipped to the KPI's possible values (``evaluation.summarize`` does it): with few
    seeds a 95% interval could otherwise reach past them.
    """
    part = result.summary[result.summary["kpi"] == kpi]
    frame: pd.DataFrame = part[["num_agents", RATE_FIELD, "mean", "ci95_low", "ci95_high"]].copy()
    frame["tickets per day"] = frame[RATE_FIELD].astype(float)
    out: pd.DataFrame = frame.reset_index(drop=True)
    return out
