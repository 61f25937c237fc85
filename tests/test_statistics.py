"""Confidence intervals, summaries and the interquartile mean of ``statistics``."""

from __future__ import annotations

import doctest
import math

import pandas as pd
import pytest

from rl_environments.ticket_routing import statistics
from rl_environments.ticket_routing.statistics import mean_ci95, summarize, summary_table, t_quantile_975


def test_t_quantiles_and_confidence_intervals() -> None:
    assert t_quantile_975(1) == pytest.approx(12.706)
    assert t_quantile_975(4) == pytest.approx(2.776)
    assert t_quantile_975(40) == pytest.approx(2.0211, abs=2e-4)
    assert t_quantile_975(120) == pytest.approx(1.9799, abs=2e-4)
    assert t_quantile_975(10**6) == pytest.approx(1.95996, abs=1e-4)
    with pytest.raises(ValueError, match="dof"):
        t_quantile_975(0)
    mean, low, high, n = mean_ci95([1.0, 2.0, 3.0, 4.0, 5.0, math.nan])
    half = 2.776 * math.sqrt(2.5) / math.sqrt(5)
    assert (mean, n) == (3.0, 5)
    assert low == pytest.approx(3.0 - half, abs=1e-3)
    assert high == pytest.approx(3.0 + half, abs=1e-3)
    one = mean_ci95([7.0])
    assert one[0] == 7.0
    assert math.isnan(one[1])
    assert one[3] == 1
    assert math.isnan(mean_ci95([math.nan])[0])


def test_summarize_gives_mean_and_ci_per_policy_and_kpi() -> None:
    episodes = pd.DataFrame(
        {
            "policy": ["a", "a", "a", "b", "b", "b"],
            "episode": [0, 1, 2, 0, 1, 2],
            "seed": [0, 1, 2, 0, 1, 2],
            "csat_pct": [80.0, 82.0, 84.0, 60.0, 60.0, 60.0],
            "sla_compliance_pct_critical": [math.nan, 50.0, 70.0, 10.0, 20.0, 30.0],
        }
    )
    summary = summarize(episodes)
    assert list(summary.columns) == ["policy", "kpi", "mean", "ci95_low", "ci95_high", "std", "n"]
    row = summary[(summary["policy"] == "a") & (summary["kpi"] == "csat_pct")].iloc[0]
    assert row["mean"] == pytest.approx(82.0)
    assert row["ci95_high"] - row["mean"] == pytest.approx(4.303 * 2.0 / math.sqrt(3), abs=1e-3)
    nan_row = summary[(summary["policy"] == "a") & (summary["kpi"] == "sla_compliance_pct_critical")].iloc[0]
    assert nan_row["n"] == 2
    assert nan_row["mean"] == pytest.approx(60.0)
    flat = summary[(summary["policy"] == "b") & (summary["kpi"] == "csat_pct")].iloc[0]
    assert flat["ci95_low"] == flat["ci95_high"] == 60.0
    table = summary_table(summary, ["csat_pct"])
    assert list(table.index) == ["a", "b"]
    with pytest.raises(ValueError, match="unknown KPI 'nope'"):
        summarize(episodes, ["nope"])


def test_statistics_module_doctest() -> None:
    assert doctest.testmod(statistics).failed == 0
