"""The KPI catalog: every KPI the simulation reports has an entry, and everything shown derives from it."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd

from rl_environments.ticket_routing import TicketRoutingEnv, evaluation
from rl_environments.ticket_routing.cli.compare import TABLE_COLUMNS
from rl_environments.ticket_routing.core import kpi_catalog
from rl_environments.ticket_routing.core.kpi_catalog import CHART_KPIS, KPIS, MAIN_KPIS, kpi
from rl_environments.ticket_routing.dashboard.analytics import TABLE_KPIS


def test_every_reported_kpi_has_an_entry() -> None:
    env = TicketRoutingEnv(episode_length=30)
    env.reset(seed=0)
    for _ in range(30):
        env.step(int(np.argmax(env.action_masks())))
    scalar = [k for k, v in env.kpis().items() if not isinstance(v, list)]
    missing = [k for k in scalar if k not in KPIS]
    assert missing == [], f"add these KPIs to core/kpi_catalog.py: {missing}"


def test_tables_chart_and_dashboard_derive_from_the_catalog() -> None:
    assert evaluation.MAIN_KPIS == MAIN_KPIS and evaluation.CHART_KPIS == CHART_KPIS
    assert [c[0] for c in TABLE_COLUMNS] == list(MAIN_KPIS)
    assert [c[1] for c in TABLE_COLUMNS] == [KPIS[k].header for k in MAIN_KPIS]
    assert TABLE_KPIS[: len(MAIN_KPIS)] == MAIN_KPIS
    assert set(CHART_KPIS) <= set(MAIN_KPIS)
    assert "episode_return" in MAIN_KPIS


def test_directions_bounds_and_the_fallback() -> None:
    assert KPIS["mean_resolution_hours"].header == "mean resolution h ↓"
    assert KPIS["csat_pct"].title == "CSAT (%), higher is better"
    assert KPIS["mean_utilization_pct"].direction == ""
    assert kpi("tickets_rejected").clip(-40.5, 55.0) == (0.0, 55.0)
    assert kpi("sla_compliance_pct").clip(97.0, 101.2) == (97.0, 100.0)
    low, high = kpi("episode_return").clip(-500.0, math.nan)
    assert low == -500.0 and math.isnan(high)
    made_up = kpi("queue_wobble")
    assert made_up.label == "queue wobble" and made_up.clip(-1.0, 1.0) == (-1.0, 1.0)
    assert made_up.format(float("nan")) == "-" and made_up.format(1.234) == "1.23"
    assert doctest.testmod(kpi_catalog).failed == 0


def test_summary_intervals_on_counts_never_go_below_zero() -> None:
    episodes = pd.DataFrame(
        {
            "policy": ["a"] * 5,
            "scenario": ["s"] * 5,
            "episode": range(5),
            "seed": range(5),
            "tickets_rejected": [0, 0, 0, 0, 73],
            "csat_pct": [100.0, 100.0, 99.0, 100.0, 60.0],
        }
    )
    summary = evaluation.summarize(episodes).set_index("kpi")
    assert summary.loc["tickets_rejected", "ci95_low"] == 0.0
    assert summary.loc["tickets_rejected", "ci95_high"] > 14.6
    assert summary.loc["csat_pct", "ci95_high"] == 100.0
