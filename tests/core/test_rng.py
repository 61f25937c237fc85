"""The per-environment xoshiro256** streams."""

from __future__ import annotations

import numpy as np
import pytest

from rl_environments.ticket_routing.core.rng import categorical, exponential, seed_states, standard_normal, uniform


def test_streams_are_reproducible_and_independent() -> None:
    a = seed_states(np.random.default_rng(7), 2)
    b = seed_states(np.random.default_rng(7), 2)
    np.testing.assert_array_equal(a, b)
    xs = [uniform(a[0]) for _ in range(5)]
    ys = [uniform(b[0]) for _ in range(5)]
    zs = [uniform(a[1]) for _ in range(5)]
    assert xs == ys
    assert xs != zs


def test_distributions() -> None:
    s = seed_states(np.random.default_rng(0), 1)[0]
    u = np.array([uniform(s) for _ in range(50_000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert u.mean() == pytest.approx(0.5, abs=0.005)
    e = np.array([exponential(s) for _ in range(50_000)])
    assert e.mean() == pytest.approx(1.0, abs=0.02)
    z = np.array([standard_normal(s) for _ in range(50_000)])
    assert z.mean() == pytest.approx(0.0, abs=0.02) and z.std() == pytest.approx(1.0, abs=0.02)
    cdf = np.array([0.2, 0.5, 1.0])
    c = np.array([categorical(s, cdf) for _ in range(30_000)])
    np.testing.assert_allclose(np.bincount(c) / c.size, [0.2, 0.3, 0.5], atol=0.01)


def test_seed_states_never_all_zero() -> None:
    states = seed_states(np.random.default_rng(0), 100)
    assert np.all(states.any(axis=1))
