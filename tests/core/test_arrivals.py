"""Arrivals: Poisson rate, type and priority mixes, and the weekly profile (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingVectorEnv
from rl_environments.ticket_routing.core.arrivals import draw_type_priority, next_poisson_arrival
from rl_environments.ticket_routing.core.config import WEEKDAYS
from rl_environments.ticket_routing.core.params import compile_params, weekly_intensity
from rl_environments.ticket_routing.core.rng import seed_states
from rl_environments.ticket_routing.core.state import F_CLOCK, F_START, I_ARRIVED


def _arrival_times(config: EnvironmentConfig, count: int, seed: int = 0) -> np.ndarray:
    cp = compile_params(config)
    state = seed_states(np.random.default_rng(seed), 1)[0]
    times = np.empty(count)
    t = 0.0
    for k in range(count):
        t = next_poisson_arrival(state, t, cp)
        times[k] = t
    return times


def test_homogeneous_rate_and_exponential_gaps() -> None:
    cfg = EnvironmentConfig(arrivals={"rate_per_day": 48.0, "weekly_profile": None})  # 2 per hour, flat
    gaps = np.diff(_arrival_times(cfg, 20_000), prepend=0.0)
    # Mean gap 0.5 h; standard error 0.5 / sqrt(20000) = 0.0035: allow 4 standard errors.
    assert gaps.mean() == pytest.approx(0.5, abs=4 * 0.5 / np.sqrt(gaps.size))
    # Exponential: the coefficient of variation is 1.
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.03)


def test_type_and_priority_mixes() -> None:
    cfg = EnvironmentConfig(arrivals={"type_mix": [0.4, 0.3, 0.1, 0.1, 0.1], "priority_mix": [0.05, 0.15, 0.5, 0.3]})
    cp = compile_params(cfg)
    state = seed_states(np.random.default_rng(1), 1)[0]
    n = 40_000
    draws = np.array([draw_type_priority(state, cp) for _ in range(n)])
    for column, mix in ((0, cfg.arrivals.type_mix), (1, cfg.arrivals.priority_mix)):
        freq = np.bincount(draws[:, column], minlength=len(mix)) / n
        se = np.sqrt(np.asarray(mix) * (1 - np.asarray(mix)) / n)
        assert np.all(np.abs(freq - mix) <= 4 * se + 1e-12), (freq, mix)


def test_weekly_profile_shapes_arrivals_by_thinning() -> None:
    profile = {day: [0.0] * 8 + [3.0] * 10 + [1.0] * 6 for day in WEEKDAYS[:5]}
    profile.update({day: [0.5] * 24 for day in WEEKDAYS[5:]})
    cfg = EnvironmentConfig(arrivals={"rate_per_day": 60.0, "weekly_profile": profile})
    intensity = weekly_intensity(cfg)
    assert intensity.mean() == pytest.approx(1.0)
    times = _arrival_times(cfg, 60_000, seed=2)
    hours = np.floor(times).astype(int) % 168
    observed = np.bincount(hours, minlength=168) / hours.size
    expected = intensity / intensity.sum()
    assert np.abs(observed - expected).max() < 0.002
    assert observed[np.flatnonzero(intensity == 0)].sum() == 0.0
    days = times[-1] / 24.0
    assert times.size / days == pytest.approx(60.0, rel=0.03)


def test_env_arrival_rate_matches_the_config() -> None:
    """Through the vector env, with room for every ticket: arrivals per simulated day."""
    cfg = EnvironmentConfig(
        num_agents=20,
        episode_length=2000,
        arrivals={"rate_per_day": 30.0, "weekly_profile": None},
        agents={"shift_hours": 24, "work_days": list(WEEKDAYS)},
    )
    env = TicketRoutingVectorEnv(8, cfg)
    env.reset(seed=123)
    for _ in range(1999):
        env.step(np.argmax(env.action_masks(), axis=1))
    arrived = env.sim.state.counts[:, I_ARRIVED].sum()
    days = (env.sim.state.floats[:, F_CLOCK] - env.sim.state.floats[:, F_START]).sum() / 24.0
    assert arrived / days == pytest.approx(30.0, rel=0.03)
