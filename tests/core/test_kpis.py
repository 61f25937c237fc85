"""KPI helpers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.core.kpis import batch_kpis, compute_kpis, gini, nan_p90_median


def test_gini_known_values() -> None:
    assert gini(np.array([5.0, 5.0, 5.0, 5.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 8.0])) == pytest.approx(0.75)
    assert gini(np.array([1.0, 3.0])) == pytest.approx(0.25)
    assert gini(np.zeros(3)) == 0.0
    assert gini(np.array([])) == 0.0


def test_kpis_before_any_resolution_are_nan_not_errors() -> None:
    env = TicketRoutingEnv(EnvironmentConfig(num_agents=3))
    env.reset(seed=0)
    kpis = env.kpis()
    assert kpis["tickets_resolved"] == 0
    assert math.isnan(kpis["mean_resolution_hours"]) and math.isnan(kpis["csat_pct"])
    assert math.isnan(kpis["p90_resolution_hours_critical"])
    assert kpis["workload_gini"] == 0.0


def test_batch_and_single_kpis_agree() -> None:
    env = TicketRoutingEnv(EnvironmentConfig(num_agents=3))
    env.reset(seed=1)
    for _ in range(200):
        env.step(int(np.flatnonzero(env.action_masks())[0]))
    single = compute_kpis(env.sim)
    batch = batch_kpis(env.sim, np.array([0]))
    assert single["mean_resolution_hours"] == pytest.approx(float(batch["mean_resolution_hours"][0]))
    assert single["tickets_resolved"] == int(batch["tickets_resolved"][0])
    assert batch_kpis(env.sim, np.array([], dtype=np.int64))["mean_resolution_hours"].shape == (0,)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 4),
    width=st.sampled_from([1, 2, 3, 8, 599, 600, 700]),  # NumPy's nanmedian changes method at 600
    scale=st.floats(1e-3, 1e3),
    nan_share=st.floats(0.0, 1.0),
    ties=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_nan_p90_median_is_numpys_bit_for_bit(
    rows: int, width: int, scale: float, nan_share: float, ties: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.exponential(scale, size=(rows, width))
    if ties:
        values = np.round(values, 1)
    values[rng.random((rows, width)) < nan_share] = np.nan
    p90, median = nan_p90_median(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        expected_p90 = np.array([np.nanpercentile(row, 90) for row in values])
        expected_median = np.nanmedian(values, axis=1)
    assert p90.tobytes() == expected_p90.tobytes()
    assert median.tobytes() == expected_median.tobytes()


def test_nan_p90_median_of_no_rows_and_of_empty_rows() -> None:
    p90, median = nan_p90_median(np.zeros((0, 4)))
    assert p90.shape == median.shape == (0,)
    p90, median = nan_p90_median(np.array([[np.nan, np.nan], [2.0, np.nan]]))
    assert np.isnan(p90[0]) and np.isnan(median[0])
    assert p90[1] == median[1] == 2.0
