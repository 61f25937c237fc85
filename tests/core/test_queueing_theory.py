"""Queueing checks against theory (fixed seeds).

With capacity 1 per agent, exponential service of rate mu, equal expertise and every ticket sent
to an idle agent, the team is an M/M/c queue; the mean wait before assignment is Erlang C's
``Wq = C(c, a) / (c * mu - lambda)`` with ``a = lambda / mu``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingVectorEnv
from rl_environments.ticket_routing.core.config import WEEKDAYS
from rl_environments.ticket_routing.core.state import F_SUM_WAIT, I_ASSIGNED, I_RESOLVED, R_HOURS, R_PRIORITY
from rl_environments.ticket_routing.core.typing import FloatArray


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    prob_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return prob_wait / (c * mu - lam)


def test_erlang_c_formula_reference_value() -> None:
    assert erlang_c_wait(3, 2.0, 1.0) == pytest.approx(4.0 / 9.0)


@pytest.mark.parametrize(("agents", "rate_per_hour", "effort_hours"), [(3, 2.0, 1.0), (5, 3.0, 1.25)])
def test_mmc_mean_wait_matches_erlang_c(agents: int, rate_per_hour: float, effort_hours: float) -> None:
    cfg = EnvironmentConfig(
        num_agents=agents,
        max_workload=1,
        max_queue_size=1000,
        episode_length=40_000,
        arrivals={"rate_per_day": rate_per_hour * 24.0, "weekly_profile": None},
        agents={"expertise": [[1.0] * 5] * agents, "shift_hours": 24, "work_days": list(WEEKDAYS)},
        service={"distribution": "exponential", "base_effort_hours": [effort_hours] * 5},
    )
    n_envs = 8
    env = TicketRoutingVectorEnv(n_envs, cfg)
    env.reset(seed=2024)
    for _ in range(cfg.episode_length - 1):
        env.step(np.argmax(env.action_masks(), axis=1))  # any idle agent
    waits = env.sim.state.floats[:, F_SUM_WAIT] / env.sim.state.counts[:, I_ASSIGNED]
    expected = erlang_c_wait(agents, rate_per_hour, 1.0 / effort_hours)
    standard_error = waits.std(ddof=1) / math.sqrt(n_envs)
    # Stated tolerance: 5% of Wq, and the estimate within 4 standard errors (batch means over 8 runs).
    assert waits.mean() == pytest.approx(expected, rel=0.05)
    assert abs(waits.mean() - expected) < 4 * standard_error + 1e-9


def batch_mean_resolution(cfg: EnvironmentConfig, n_envs: int, seed: int) -> FloatArray:
    """(n_envs, 1 + priorities): mean resolution hours of each environment (one batch each), over
    all tickets and per priority, after one episode of any-idle-agent routing."""
    env = TicketRoutingVectorEnv(n_envs, cfg)
    env.reset(seed=seed)
    for _ in range(cfg.episode_length - 1):
        env.step(np.argmax(env.action_masks(), axis=1))
    sim = env.sim
    out = np.empty((n_envs, 5))
    for i in range(n_envs):
        rec = sim.state.records[i, : int(sim.state.counts[i, I_RESOLVED])].astype(np.float64)
        out[i, 0] = rec[:, R_HOURS].mean()
        for k in range(4):
            out[i, 1 + k] = rec[rec[:, R_PRIORITY] == k, R_HOURS].mean()
    return out


@pytest.mark.parametrize(("distribution", "cv"), [("exponential", 1.0), ("deterministic", 1.0), ("lognormal", 2.0)])
def test_mg1_processor_sharing_is_insensitive_to_the_service_distribution(distribution: str, cv: float) -> None:
    """One agent sharing its time equally among open tickets (M/G/1-PS): the mean time in system is
    ``E[S] / (1 - rho)`` whatever the service distribution. Here E[S] = 1 h, rho = 0.5: 2 h."""
    cfg = EnvironmentConfig(
        num_agents=1,
        max_workload=40,
        max_queue_size=1000,
        episode_length=25_000,
        arrivals={"rate_per_day": 0.5 * 24.0, "weekly_profile": None},
        agents={"expertise": [[1.0] * 5], "shift_hours": 24, "work_days": list(WEEKDAYS)},
        service={"distribution": distribution, "cv": cv, "base_effort_hours": [1.0] * 5, "switching_overhead": 0.0},
    )
    means = batch_mean_resolution(cfg, 8, seed=99)[:, 0]
    expected = 1.0 / (1.0 - 0.5)
    standard_error = means.std(ddof=1) / math.sqrt(len(means))
    assert means.mean() == pytest.approx(expected, rel=0.05)
    assert abs(means.mean() - expected) < 4 * standard_error


def cobham_waits(c: int, lam: FloatArray, mu: float) -> FloatArray:
    """Mean wait per class in a non-preemptive priority M/M/c queue with a common service rate
    (Cobham, 1954): ``W_k = W0 / ((1 - s_{k-1}) (1 - s_k))`` with ``W0 = C(c, a) / (c mu)`` and
    ``s_k`` the load of classes 0..k."""
    total = float(lam.sum())
    w0 = erlang_c_wait(c, total, mu) * (c * mu - total) / (c * mu)  # C(c, a) / (c mu)
    sigma = np.concatenate([[0.0], np.cumsum(lam) / (c * mu)])
    return w0 / ((1.0 - sigma[:-1]) * (1.0 - sigma[1:]))


def test_cobham_reference_value() -> None:
    # One class: Cobham's formula is Erlang C's wait.
    assert cobham_waits(3, np.array([2.0]), 1.0)[0] == pytest.approx(4.0 / 9.0)


def test_priority_mmc_waits_match_cobham() -> None:
    """Three identical agents, one ticket each, most urgent priority first (oldest first within a
    priority): a non-preemptive priority M/M/3 queue. Time in system per priority = Cobham's wait + 1/mu."""
    mix = np.array([0.1, 0.2, 0.3, 0.4])
    lam_total, mu, c = 2.1, 1.0, 3
    cfg = EnvironmentConfig(
        num_agents=c,
        max_workload=1,
        max_queue_size=1000,
        episode_length=40_000,
        arrivals={"rate_per_day": lam_total * 24.0, "weekly_profile": None, "priority_mix": mix.tolist()},
        agents={"expertise": [[1.0] * 5] * c, "shift_hours": 24, "work_days": list(WEEKDAYS)},
        service={"distribution": "exponential", "base_effort_hours": [1.0 / mu] * 5},
    )
    expected = cobham_waits(c, lam_total * mix, mu) + 1.0 / mu
    means = batch_mean_resolution(cfg, 8, seed=5)[:, 1:]
    standard_error = means.std(axis=0, ddof=1) / math.sqrt(len(means))
    np.testing.assert_array_less(np.abs(means.mean(axis=0) - expected), 4 * standard_error)
    np.testing.assert_allclose(means.mean(axis=0), expected, rtol=0.05)
