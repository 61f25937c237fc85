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
from rl_environments.ticket_routing.core.data_models import WEEKDAYS
from rl_environments.ticket_routing.core.state_manager import F_SUM_WAIT, I_ASSIGNED


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
    waits = env.sim.fs[:, F_SUM_WAIT] / env.sim.ist[:, I_ASSIGNED]
    expected = erlang_c_wait(agents, rate_per_hour, 1.0 / effort_hours)
    standard_error = waits.std(ddof=1) / math.sqrt(n_envs)
    # Stated tolerance: 5% of Wq, and the estimate within 4 standard errors (batch means over 8 runs).
    assert waits.mean() == pytest.approx(expected, rel=0.05)
    assert abs(waits.mean() - expected) < 4 * standard_error + 1e-9
