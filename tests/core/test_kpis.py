"""KPI helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.core.kpis import batch_kpis, compute_kpis, gini


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
