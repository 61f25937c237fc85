"""Invariants over random valid configurations and action sequences (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.core.config import WEEKDAYS


@st.composite
def configs(draw: st.DrawFn) -> EnvironmentConfig:
    num_agents = draw(st.integers(1, 6))
    weights = draw(st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4))
    priority_mix = [w / sum(weights) for w in weights]
    priority_mix[-1] = 1.0 - sum(priority_mix[:-1])
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    profile: Any = None
    if draw(st.booleans()):
        profile = {d: draw(st.lists(st.floats(0.0, 3.0), min_size=24, max_size=24)) for d in WEEKDAYS}
        profile["monday"][10] = 1.0  # keep the profile positive somewhere
    return EnvironmentConfig(
        num_agents=num_agents,
        episode_length=draw(st.integers(1, 40)),
        max_queue_size=draw(st.integers(1, 15)),
        max_workload=draw(st.integers(1, 4)),
        max_invalid_retries=draw(st.integers(1, 3)),
        start_hour_of_week=draw(st.integers(0, 167)),
        max_ticket_age_hours=draw(st.floats(1.0, 500.0)),
        arrivals={"rate_per_day": draw(st.floats(1.0, 500.0)), "priority_mix": priority_mix, "weekly_profile": profile},
        agents={
            "shift_start_hour": draw(st.integers(0, 23)),
            "shift_hours": draw(st.integers(1, 24)),
            "shift_stagger_hours": draw(st.integers(0, 12)),
            "work_days": days,
            "specialties_per_agent": draw(st.integers(0, 5)),
        },
        service={
            "distribution": draw(st.sampled_from(["exponential", "lognormal", "deterministic"])),
            "cv": draw(st.floats(0.1, 3.0)),
            "switching_overhead": draw(st.floats(0.0, 0.5)),
        },
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), actions=st.lists(st.integers(0, 5), min_size=1, max_size=80), seed=st.integers(0, 2**16))
def test_invariants_hold_at_every_step(config: EnvironmentConfig, actions: list[int], seed: int) -> None:
    env = TicketRoutingEnv(config)
    obs, info = env.reset(seed=seed)
    clock = env.clock_hours
    for raw in actions:
        assert env.observation_space.contains(obs)
        assert obs["queue_size"] >= 1  # never a step without a ticket to route
        for value in obs.values():
            assert np.all(np.isfinite(value))
        kpis = info["kpis"]
        assert kpis["tickets_arrived"] == (
            kpis["tickets_waiting"] + kpis["tickets_in_service"] + kpis["tickets_resolved"] + kpis["tickets_rejected"]
        )
        assert kpis["tickets_waiting"] <= config.max_queue_size
        assert np.all(obs["agent_workload"] <= config.max_workload)
        action = raw % config.num_agents
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.isfinite(reward)
        assert env.clock_hours >= clock
        clock = env.clock_hours
        if terminated or truncated:
            assert info["episode_kpis"]["decisions"] <= config.episode_length
            obs, info = env.reset()
            clock = env.clock_hours
            if info["kpis"]["tickets_waiting"] == 0:  # nothing to route: only a finished trace does this
                break
