"""The agent pool: expertise draws, work sampling, processor-sharing rates and shift schedules."""

from __future__ import annotations

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.core.params import agent_schedule, compile_params
from rl_environments.ticket_routing.core.rng import seed_states
from rl_environments.ticket_routing.core.service import draw_expertise, sample_work, total_rate


def _state(seed: int = 0) -> np.ndarray:
    return seed_states(np.random.default_rng(seed), 1)[0]


def test_expertise_draw_respects_ranges_and_specialties() -> None:
    cfg = EnvironmentConfig(
        num_agents=50,
        agents={"expertise_range": [0.2, 0.4], "specialist_range": [0.9, 1.0], "specialties_per_agent": 2},
    )
    cp = compile_params(cfg)
    out = np.zeros((50, 5))
    draw_expertise(_state(), out, cp)
    specialists = out >= 0.9
    assert np.all(specialists.sum(axis=1) == 2)
    assert np.all((out[~specialists] >= 0.2) & (out[~specialists] <= 0.4))
    assert len({tuple(np.flatnonzero(row)) for row in specialists}) > 3  # specialties vary


def test_fixed_expertise_is_used_as_given() -> None:
    matrix = [[0.1, 0.2, 0.3, 0.4, 0.5], [0.9, 0.8, 0.7, 0.6, 0.5]]
    cfg = EnvironmentConfig(num_agents=2, agents={"expertise": matrix})
    cp = compile_params(cfg)
    out = np.zeros((2, 5))
    draw_expertise(_state(), out, cp)
    np.testing.assert_allclose(out, matrix)


@pytest.mark.parametrize(
    ("dist", "cv"), [("exponential", 1.0), ("lognormal", 0.5), ("lognormal", 2.0), ("deterministic", 0.0)]
)
def test_work_distribution_mean_and_spread(dist: str, cv: float) -> None:
    service = {"distribution": dist, "min_speed": 0.25, "base_effort_hours": [2.0] * 5}
    if dist == "lognormal":
        service["cv"] = cv
    cp = compile_params(EnvironmentConfig(service=service))
    state = _state(3)
    n = 60_000 if dist != "deterministic" else 10
    work = np.array([sample_work(state, 0, 0.5, cp) for _ in range(n)])
    speed = 0.25 + 0.75 * 0.5
    mean = 2.0 / speed
    assert work.mean() == pytest.approx(mean, rel=0.03 if cv < 2 else 0.08)
    assert work.std() / work.mean() == pytest.approx(cv, abs=0.05 if cv < 2 else 0.4)


def test_higher_expertise_is_faster() -> None:
    cp = compile_params(EnvironmentConfig(service={"distribution": "deterministic"}))
    state = _state()
    assert sample_work(state, 3, 1.0, cp) < sample_work(state, 3, 0.5, cp) < sample_work(state, 3, 0.0, cp)


def test_processor_sharing_rate_with_switching_overhead() -> None:
    cp = compile_params(EnvironmentConfig(max_workload=5, service={"switching_overhead": 0.1}))
    assert total_rate(1, cp) == pytest.approx(1.0)
    assert total_rate(2, cp) == pytest.approx(1.0 / 1.1)
    assert total_rate(5, cp) == pytest.approx(1.0 / 1.4)


def test_schedule_shifts_and_stagger() -> None:
    cfg = EnvironmentConfig(
        num_agents=3,
        agents={"shift_start_hour": 22, "shift_hours": 4, "shift_stagger_hours": 8, "work_days": ["monday"]},
    )
    sched = agent_schedule(cfg)
    assert sched.shape == (3, 168)
    assert np.flatnonzero(sched[0]).tolist() == [22, 23, 24, 25]  # crosses midnight into Tuesday
    assert np.flatnonzero(sched[1]).tolist() == [6, 7, 8, 9]
    assert np.flatnonzero(sched[2]).tolist() == [14, 15, 16, 17]
    cp = compile_params(cfg)
    assert cp.hours_to_change[0] == 6.0
    assert cp.hours_to_change[25] == 1.0
    assert cp.hours_to_change[26] == 148.0  # next change: agent 1's start next Monday


def test_always_on_schedule_never_changes() -> None:
    cfg = EnvironmentConfig(
        agents={
            "shift_hours": 24,
            "work_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
        }
    )
    cp = compile_params(cfg)
    assert cp.schedule.all()
    assert np.isinf(cp.hours_to_change).all()
