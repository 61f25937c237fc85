"""General Gymnasium wrappers: the compact Box observation and the mask-in-observation layout."""

from __future__ import annotations

import doctest
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_environments.ticket_routing import (
    TICKET_TYPES,
    EnvironmentConfig,
    TicketRoutingEnv,
    TicketRoutingVectorEnv,
    wrappers,
)
from rl_environments.ticket_routing.wrappers import (
    CompactObservation,
    CompactVectorObservation,
    MaskInObservation,
    compact_feature_names,
    compact_features,
    ticket_expertise,
)

CFG = EnvironmentConfig(num_agents=4, episode_length=30, max_queue_size=12, max_workload=3)


def test_compact_observation_is_a_bounded_float32_box_that_passes_check_env() -> None:
    env = CompactObservation(TicketRoutingEnv(CFG))
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, shape=(5 + 4 + 3 + 2 + 6 * 4 + 5 * 4,), dtype=np.float32)
    assert len(env.feature_names) == env.observation_space.shape[0]  # type: ignore[index]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version")
        check_env(env, skip_render_check=True)
    small = CompactObservation(TicketRoutingEnv(CFG), include_expertise=False)
    assert small.observation_space.shape == (38,)
    obs, info = small.reset(seed=3)
    assert obs.dtype == np.float32 and small.observation_space.contains(obs)
    np.testing.assert_array_equal(small.action_masks(), info["action_mask"])


def test_compact_features_read_the_observation_faithfully() -> None:
    env = TicketRoutingEnv(CFG)
    obs, _ = env.reset(seed=1)
    for _ in range(12):  # load the agents so workloads, queue and step are non-zero
        obs, *_ = env.step(int(np.argmax(env.action_masks())))
    x = compact_features(obs, CFG)
    named = dict(zip(compact_feature_names(4), x.tolist(), strict=True))
    assert named[f"ticket_type={TICKET_TYPES[obs['ticket_type']]}"] == 1.0
    assert sum(v for k, v in named.items() if k.startswith("ticket_type=")) == 1.0
    assert named["time_step"] == pytest.approx(12 / 30)
    assert named["queue_size"] == pytest.approx(obs["queue_size"] / 12)
    expertise = obs["agent_expertise"].reshape(4, 5)
    for a in range(4):
        assert named[f"ticket_expertise[{a}]"] == expertise[a, obs["ticket_type"]]
        assert named[f"workload[{a}]"] == pytest.approx(obs["agent_workload"][a] / 3)
        assert named[f"available[{a}]"] == float(obs["agent_availability"][a])
        assert named[f"next_change_hours[{a}]"] == pytest.approx(obs["agent_next_change_hours"][a] / 168)
        assert named[f"change_goes_offline[{a}]"] == float(obs["agent_change_goes_offline"][a])
    assert named["hour_of_week_sin"] == pytest.approx((obs["hour_of_week"][0] + 1) / 2)
    assert any(named[f"workload[{a}]"] > 0 for a in range(4))


def test_compact_features_of_a_batch_match_each_row() -> None:
    vec = TicketRoutingVectorEnv(3, CFG)
    batch, _ = vec.reset(seed=9)
    features = compact_features(batch, CFG)
    assert features.shape == (3, 58)
    for i in range(3):
        single, _ = TicketRoutingEnv(CFG).reset(seed=9 + i)
        np.testing.assert_array_equal(features[i], compact_features(single, CFG))
    np.testing.assert_array_equal(
        ticket_expertise(batch["ticket_type"], batch["agent_expertise"]),
        batch["agent_expertise"].reshape(3, 4, 5)[np.arange(3), :, batch["ticket_type"]],
    )


def test_normalize_observation_and_flatten_work_on_the_compact_box() -> None:
    env = gym.wrappers.NormalizeObservation(CompactObservation(gym.make("TicketRouting-v0", config=CFG)))
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(0)
    assert obs.shape == (58,)


def test_mask_in_observation_layout_and_action_masks_through_wrappers() -> None:
    env = MaskInObservation(CompactObservation(gym.make("TicketRouting-v0", config=CFG)))
    assert set(env.observation_space.spaces) == {"observations", "action_mask"}  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version")
        check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=4)
    np.testing.assert_array_equal(obs["action_mask"], info["action_mask"])
    assert obs["action_mask"].dtype == np.bool_ and env.observation_space.contains(obs)
    np.testing.assert_array_equal(env.action_masks(), info["action_mask"])
    timed = gym.wrappers.TimeLimit(env, 5)
    np.testing.assert_array_equal(timed.get_wrapper_attr("action_masks")(), info["action_mask"])
    tianshou_style = MaskInObservation(TicketRoutingEnv(CFG), obs_key="obs", mask_key="mask")
    obs, _ = tianshou_style.reset(seed=0)
    assert set(obs) == {"obs", "mask"} and isinstance(obs["obs"], dict)


def test_wrappers_refuse_what_they_cannot_read() -> None:
    with pytest.raises(ValueError, match="observation_layout='flat'"):
        CompactObservation(TicketRoutingEnv(CFG, observation_layout="nested"))
    with pytest.raises(ValueError, match="expected a TicketRouting-v0 environment"):
        CompactObservation(gym.make("CartPole-v1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mask_key: invalid value 'x'"):
        MaskInObservation(TicketRoutingEnv(CFG), obs_key="x", mask_key="x")


def test_module_doctest() -> None:
    assert doctest.testmod(wrappers).failed == 0


def test_compact_vector_observation_in_same_step_mode_matches_single_envs() -> None:
    cfg = EnvironmentConfig(num_agents=4, episode_length=5, max_queue_size=12, max_workload=3)
    vec = CompactVectorObservation(TicketRoutingVectorEnv(2, cfg, autoreset_mode="same_step"))
    assert vec.single_observation_space.shape == (58,) and vec.observation_space.shape == (2, 58)  # type: ignore[union-attr]
    obs, _ = vec.reset(seed=21)
    singles = [CompactObservation(TicketRoutingEnv(cfg)) for _ in range(2)]
    expected = [env.reset(seed=21 + i)[0] for i, env in enumerate(singles)]
    np.testing.assert_array_equal(obs, np.stack(expected))
    for _ in range(5):
        actions = np.argmax(vec.action_masks(), axis=1)
        obs, _, _, truncated, info = vec.step(actions)
        last = [env.step(int(a))[0] for env, a in zip(singles, actions, strict=True)]
    assert truncated.all() and info["_final_obs"].all()
    for i in range(2):
        np.testing.assert_array_equal(info["final_obs"][i], last[i])  # compacted too
        np.testing.assert_array_equal(obs[i], singles[i].reset()[0])  # the next episode's first observation
    with pytest.raises(ValueError, match="expected a TicketRoutingVectorEnv with the flat layout"):
        CompactVectorObservation(TicketRoutingVectorEnv(2, cfg, observation_layout="nested"))
