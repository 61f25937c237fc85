"""Baseline policies: valid choices only, seeded determinism, and each rule doing what its name says."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.policies import (
    POLICY_NAMES,
    PrioritySedPolicy,
    SkillLoadPolicy,
    make_policy,
)
from rl_environments.ticket_routing.policies import Policy as PolicyProtocol

A = 4
CONFIG = EnvironmentConfig(num_agents=A, max_workload=10)
TECH, BILLING = 0, 1
CRITICAL, LOW = 0, 3


def situation(
    *,
    expertise: list[list[float]] | None = None,
    workload: list[float] | None = None,
    ticket_type: int = TECH,
    priority: int = 2,
) -> dict[str, Any]:
    """A hand-built flat observation for four agents."""
    matrix = np.full((A, 5), 0.5) if expertise is None else np.asarray(expertise, dtype=np.float64)
    return {
        "ticket_type": np.int64(ticket_type),
        "ticket_priority": np.int64(priority),
        "ticket_age": np.zeros(1, dtype=np.float32),
        "agent_expertise": matrix.astype(np.float32).reshape(-1),
        "agent_workload": np.asarray(workload if workload is not None else [0] * A, dtype=np.float32),
        "agent_availability": np.ones(A, dtype=np.int8),
        "queue_size": np.int64(1),
        "time_step": np.int64(0),
        "hour_of_week": np.array([0.0, 1.0], dtype=np.float32),  # Monday 00:00
        "agent_next_change_hours": np.full(A, 168.0, dtype=np.float32),
        "agent_change_goes_offline": np.ones(A, dtype=np.int8),
        "agent_remaining_work": np.zeros(A, dtype=np.float32),
    }


def random_batch(rng: np.random.Generator, n: int) -> tuple[dict[str, Any], np.ndarray]:
    obs = {
        "ticket_type": rng.integers(0, 5, n),
        "ticket_priority": rng.integers(0, 4, n),
        "ticket_age": rng.random((n, 1)).astype(np.float32),
        "agent_expertise": rng.random((n, A * 5)).astype(np.float32),
        "agent_workload": rng.integers(0, 10, (n, A)).astype(np.float32),
        "agent_availability": np.ones((n, A), dtype=np.int8),
        "queue_size": rng.integers(1, 50, n),
        "time_step": np.zeros(n, dtype=np.int64),
        "hour_of_week": np.stack([np.sin(angle := rng.random(n) * 2 * np.pi), np.cos(angle)], axis=1),
        "agent_next_change_hours": (rng.random((n, A)) * 168).astype(np.float32),
        "agent_change_goes_offline": np.ones((n, A), dtype=np.int8),
        "agent_remaining_work": (rng.random((n, A)) * 20).astype(np.float32),
    }
    masks = rng.random((n, A)) < 0.5
    masks[np.arange(n), rng.integers(0, A, n)] = True  # at least one valid agent per row
    return obs, masks


ALL = np.ones(A, dtype=np.bool_)


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_picks_only_valid_agents_in_batches(name: str) -> None:
    rng = np.random.default_rng(1)
    policy = make_policy(name, CONFIG, seed=0)
    assert isinstance(policy, PolicyProtocol)
    assert policy.name == name
    for _ in range(20):
        obs, masks = random_batch(rng, 64)
        actions = policy.act_batch(obs, masks)
        assert actions.shape == (64,)
        assert actions.dtype == np.int64
        assert masks[np.arange(64), actions].all()


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_picks_only_valid_agents_one_at_a_time(name: str) -> None:
    policy = make_policy(name, CONFIG, seed=0)
    obs = situation(workload=[0, 9, 3, 1], expertise=[[1.0] * 5, [0.2] * 5, [0.9] * 5, [0.1] * 5])
    for valid in ([False, True, False, False], [False, False, True, True], [True, False, False, False]):
        mask = np.array(valid)
        for _ in range(10):
            action = policy.act(obs, mask)
            assert isinstance(action, int)
            assert mask[action]


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_is_deterministic_under_a_seed(name: str) -> None:
    obs, masks = random_batch(np.random.default_rng(7), 200)
    first = make_policy(name, CONFIG, seed=3)
    second = make_policy(name, CONFIG, seed=3)
    a = [first.act_batch(obs, masks) for _ in range(3)]
    b = [second.act_batch(obs, masks) for _ in range(3)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    first.reset(seed=3)
    np.testing.assert_array_equal(first.act_batch(obs, masks), a[0])


def test_seeds_change_the_random_policy() -> None:
    obs, masks = random_batch(np.random.default_rng(7), 200)
    a = make_policy("random", CONFIG, seed=1).act_batch(obs, masks)
    b = make_policy("random", CONFIG, seed=2).act_batch(obs, masks)
    assert (a != b).any()


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_runs_an_episode_without_invalid_actions(name: str) -> None:
    config = EnvironmentConfig(num_agents=5, episode_length=300)
    env = TicketRoutingEnv(config)
    policy = make_policy(name, config, seed=0)
    obs, info = env.reset(seed=0)
    for _ in range(300):
        obs, _, terminated, truncated, info = env.step(policy.act(obs, info["action_mask"]))
        if terminated or truncated:
            break
    assert truncated
    assert env.kpis()["invalid_actions"] == 0


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_drives_a_vector_env_without_invalid_actions(name: str) -> None:
    config = EnvironmentConfig(num_agents=5, episode_length=200)
    env = TicketRoutingVectorEnv(3, config)
    policy = make_policy(name, config, seed=0)
    obs, info = env.reset(seed=0)
    for _ in range(200):
        obs, _, _, truncated, info = env.step(policy.act_batch(obs, info["action_mask"]))
    assert truncated.all()
    assert (info["episode_kpis"]["invalid_actions"] == 0).all()


def test_random_is_uniform_over_valid_agents() -> None:
    policy = make_policy("random", CONFIG, seed=0)
    mask = np.array([True, False, True, True])
    obs = situation()
    batch = {k: np.repeat(np.asarray(v)[None], 6000, axis=0) for k, v in obs.items()}
    actions = policy.act_batch(batch, np.repeat(mask[None], 6000, axis=0))
    counts = np.bincount(actions, minlength=A)
    assert counts[1] == 0
    assert np.all(np.abs(counts[[0, 2, 3]] - 2000) < 150)  # ~3.5 standard deviations


def test_round_robin_cycles_and_skips_unavailable_agents() -> None:
    policy = make_policy("round_robin", CONFIG, seed=0)
    obs = situation()
    assert [policy.act(obs, ALL) for _ in range(6)] == [0, 1, 2, 3, 0, 1]
    skip = np.array([True, True, False, True])
    assert [policy.act(obs, skip) for _ in range(4)] == [3, 0, 1, 3]
    policy.reset()
    assert policy.act(obs, ALL) == 0


def test_round_robin_keeps_one_turn_per_environment_of_a_batch() -> None:
    policy = make_policy("round_robin", CONFIG, seed=0)
    obs = {k: np.repeat(np.asarray(v)[None], 2, axis=0) for k, v in situation().items()}
    masks = np.array([[True] * A, [False, True, True, True]])
    np.testing.assert_array_equal(policy.act_batch(obs, masks), [0, 1])
    np.testing.assert_array_equal(policy.act_batch(obs, masks), [1, 2])


def test_least_loaded_picks_the_least_loaded_valid_agent() -> None:
    policy = make_policy("least_loaded", CONFIG, seed=0)
    obs = situation(workload=[5, 2, 7, 1], expertise=[[1.0] * 5, [0.0] * 5, [0.5] * 5, [0.0] * 5])
    assert policy.act(obs, ALL) == 3
    assert policy.act(obs, np.array([True, True, True, False])) == 1


def test_best_expertise_picks_the_expert_for_the_ticket_type_whatever_its_load() -> None:
    policy = make_policy("best_expertise", CONFIG, seed=0)
    expertise = [[0.3, 0.9, 0.5, 0.5, 0.5], [0.95, 0.1, 0.5, 0.5, 0.5], [0.6, 0.2, 0.5, 0.5, 0.5], [0.1] * 5]
    obs = situation(expertise=expertise, workload=[0, 9, 0, 0], ticket_type=TECH)
    assert policy.act(obs, ALL) == 1
    assert policy.act(obs, np.array([True, False, True, True])) == 2
    assert policy.act(situation(expertise=expertise, ticket_type=BILLING), ALL) == 0


def test_skill_load_trades_expertise_against_load() -> None:
    expertise = [[0.9] + [0.5] * 4, [0.6] + [0.5] * 4, [0.1] * 5, [0.1] * 5]
    policy = make_policy("skill_load", CONFIG, seed=0)
    # Expert with 2 open tickets (0.9 - 0.2) beats an idle generalist (0.6).
    assert policy.act(situation(expertise=expertise, workload=[2, 0, 0, 0]), ALL) == 0
    # With 5 open tickets (0.9 - 0.5) the idle generalist wins.
    assert policy.act(situation(expertise=expertise, workload=[5, 0, 0, 0]), ALL) == 1
    # Weight 0 is best-expertise.
    greedy = SkillLoadPolicy(CONFIG, seed=0, load_weight=0.0)
    assert greedy.act(situation(expertise=expertise, workload=[9, 0, 0, 0]), ALL) == 0


def test_priority_sed_minimises_expected_delay() -> None:
    policy = PrioritySedPolicy(CONFIG, seed=0)
    # Expert (speed 1.0) with 3 open tickets: 1.0 * 4 * 1.15 = 4.6 h; novice (speed 0.25) idle: 4.0 h.
    expertise = [[1.0] * 5, [0.0] * 5, [0.0] * 5, [0.0] * 5]
    obs = situation(expertise=expertise, workload=[3, 0, 5, 5], priority=CRITICAL)
    hours = policy.expected_hours({k: np.asarray(v)[None] for k, v in obs.items()})
    np.testing.assert_allclose(hours[0], [4.6, 4.0, 4.0 * 6 * 1.25, 4.0 * 6 * 1.25])
    assert policy.act(obs, ALL) == 1
    # With 2 open tickets the expert is faster: 1.0 * 3 * 1.1 = 3.3 h.
    assert policy.act(situation(expertise=expertise, workload=[2, 0, 5, 5], priority=CRITICAL), ALL) == 0


def test_priority_sed_keeps_the_last_slots_for_urgent_tickets() -> None:
    policy = PrioritySedPolicy(CONFIG, seed=0)  # reserve: critical 0, high 0, medium 1, low 2
    expertise = [[1.0] * 5, [0.6] * 5, [0.0] * 5, [0.0] * 5]
    # The expert has 8 of 10 slots in use: free only for critical/high/medium tickets.
    workload = [8, 6, 9, 9]
    assert policy.act(situation(expertise=expertise, workload=workload, priority=CRITICAL), ALL) == 0
    assert policy.act(situation(expertise=expertise, workload=workload, priority=LOW), ALL) == 1
    # When every agent is inside the reserve, low tickets still get the fastest valid agent.
    full = [8, 9, 9, 9]
    assert policy.act(situation(expertise=expertise, workload=full, priority=LOW), ALL) == 0


def test_rows_without_a_valid_agent_still_get_an_index() -> None:
    policy = make_policy("least_loaded", CONFIG, seed=0)
    obs = {k: np.asarray(v)[None] for k, v in situation(workload=[3, 1, 2, 4]).items()}
    np.testing.assert_array_equal(policy.act_batch(obs, np.zeros((1, A), dtype=np.bool_)), [1])


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="unknown policy 'nope'") as err:
        make_policy("nope", CONFIG)
    for name in POLICY_NAMES:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="masks"):
        make_policy("random", CONFIG).act_batch(situation(), np.ones((2, A + 1), dtype=np.bool_))
    with pytest.raises(ValueError, match="load_weight"):
        SkillLoadPolicy(CONFIG, load_weight=-1.0)
    with pytest.raises(ValueError, match="reserve"):
        PrioritySedPolicy(CONFIG, reserve=(0, 1))
    assert "least_loaded" in repr(make_policy("least_loaded", CONFIG))


def test_shift_sed_avoids_an_agent_about_to_go_offline() -> None:
    """Two agents on weekday shifts: agent 0 (an expert) works 08-17, agent 1 (a generalist) 12-21.
    At 16:00 on a Monday a 3 h technical ticket would take agent 0 one hour today and the rest
    tomorrow morning; agent 1, slower but on shift until 21:00, finishes it tonight. ``priority_sed``
    looks only at speed and picks agent 0; ``shift_sed`` picks agent 1."""
    cfg = EnvironmentConfig(
        num_agents=2,
        agents={"shift_start_hour": 8, "shift_hours": 9, "shift_stagger_hours": 4},
        service={"base_effort_hours": [3.0] * 5, "switching_overhead": 0.0},
    )
    angle = 2 * np.pi * 16.0 / 168.0
    obs = {
        "ticket_type": np.int64(TECH),
        "ticket_priority": np.int64(2),
        "ticket_age": np.zeros(1, dtype=np.float32),
        "agent_expertise": np.array([[1.0] * 5, [0.6] * 5], dtype=np.float32).reshape(-1),
        "agent_workload": np.zeros(2, dtype=np.float32),
        "agent_availability": np.ones(2, dtype=np.int8),
        "queue_size": np.int64(1),
        "time_step": np.int64(0),
        "hour_of_week": np.array([np.sin(angle), np.cos(angle)], dtype=np.float32),
        "agent_next_change_hours": np.array([1.0, 5.0], dtype=np.float32),
        "agent_change_goes_offline": np.ones(2, dtype=np.int8),
        "agent_remaining_work": np.zeros(2, dtype=np.float32),
    }
    mask = np.ones(2, dtype=np.bool_)
    assert make_policy("priority_sed", cfg, seed=0).act(obs, mask) == 0
    shift = make_policy("shift_sed", cfg, seed=0)
    assert shift.act(obs, mask) == 1
    # Agent 0 needs 3 h of online time: 1 h today (16-17), 2 h from 08:00 tomorrow -> 18 h;
    # agent 1 needs 3 / (0.25 + 0.75 * 0.6) = 4.29 h, all before 21:00.
    hours = shift.expected_hours({k: np.asarray(v)[None, ...] for k, v in obs.items()})  # type: ignore[attr-defined]
    np.testing.assert_allclose(hours[0], [18.0, 3.0 / 0.7], rtol=1e-5)
