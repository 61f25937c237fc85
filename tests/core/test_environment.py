"""The single environment: Gymnasium API, spaces, actions, rewards, info, rendering and registration."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_environments.ticket_routing import (
    REWARD_COMPONENTS,
    EnvironmentConfig,
    TicketRoutingEnv,
)
from rl_environments.ticket_routing.core.config import resolve_config
from rl_environments.ticket_routing.core.kpis import COUNT_KPIS
from rl_environments.ticket_routing.core.observation import check_display
from rl_environments.ticket_routing.core.state import OBSERVATION_KEYS
from tests.conftest import first_valid


@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_gymnasium_check_env_without_warnings(layout: str, small_config: EnvironmentConfig) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(TicketRoutingEnv(small_config, observation_layout=layout), skip_render_check=True)
        check_env(gym.make("TicketRouting-v0", config=small_config, observation_layout=layout).unwrapped)


def test_sb3_check_env_without_warnings() -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_checker.check_env(TicketRoutingEnv(), warn=True)


def test_registration_and_keyword_overrides(small_config: EnvironmentConfig) -> None:
    env = gym.make("TicketRouting-v0", num_agents=8)
    assert env.action_space == gym.spaces.Discrete(8)
    env = gym.make("TicketRouting-v0", config=small_config)
    assert env.unwrapped.config == small_config  # type: ignore[attr-defined]
    env = gym.make("TicketRouting-v0", config="easy")
    assert env.unwrapped.config == EnvironmentConfig.preset("easy")  # type: ignore[attr-defined]


def test_unknown_keywords_raise_a_type_error_that_is_a_value_error() -> None:
    with pytest.raises(TypeError, match="got an unexpected keyword argument 'frameskip'") as err:
        gym.make("TicketRouting-v0", frameskip=1)
    assert isinstance(err.value, ValueError)
    message = str(err.value)
    assert "allowed keywords: config, render_mode" in message and "num_agents" in message
    with pytest.raises(ValueError, match="unexpected keyword argument 'colour'"):
        TicketRoutingEnv(colour="red")
    with pytest.raises(ValueError, match="episode_kpis_in_info: invalid value 'no'"):
        TicketRoutingEnv(episode_kpis_in_info="no")  # type: ignore[arg-type]


def test_make_returns_the_env_with_masks_and_the_episode_length_in_its_spec() -> None:
    env = gym.make("TicketRouting-v0", num_agents=3, episode_length=12)
    assert isinstance(env, TicketRoutingEnv)  # no wrappers in the way of action_masks()
    env.reset(seed=0)
    assert env.action_masks().shape == (3,)
    assert env.spec is not None and env.spec.max_episode_steps == 12
    assert gym.make("TicketRouting-v0", config="service_desk").spec.max_episode_steps == 1855  # type: ignore[union-attr]
    limited = gym.make("TicketRouting-v0", max_episode_steps=4)  # Gymnasium's TimeLimit on top
    limited.reset(seed=0)
    np.testing.assert_array_equal(limited.get_wrapper_attr("action_masks")(), limited.unwrapped.action_masks())  # type: ignore[attr-defined]
    assert limited.spec is not None and limited.spec.max_episode_steps == 4
    direct = TicketRoutingEnv(max_episode_steps=9)
    assert direct.config.episode_length == 9 and direct.spec is None


def test_info_keys_stay_the_same_without_episode_kpis() -> None:
    env = TicketRoutingEnv(EnvironmentConfig(num_agents=3, episode_length=4), episode_kpis_in_info=False)
    _, info = env.reset(seed=2)
    keys = set(info)
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(first_valid(info["action_mask"]))
        assert set(info) == keys
    assert env.kpis()["decisions"] == 4


def test_make_with_module_prefix_in_a_fresh_process() -> None:
    code = (
        "import gymnasium as gym\n"
        "env = gym.make('rl_environments:TicketRouting-v0', num_agents=3)\n"
        "obs, info = env.reset(seed=1)\n"
        "print(env.action_space.n, sorted(obs)[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "agent_availability"]


def test_spaces_follow_the_config() -> None:
    cfg = EnvironmentConfig(num_agents=6, max_queue_size=30, episode_length=50, max_workload=4)
    env = TicketRoutingEnv(cfg)
    space = env.observation_space
    assert env.action_space == gym.spaces.Discrete(6)
    assert space["queue_size"] == gym.spaces.Discrete(31)
    assert space["time_step"] == gym.spaces.Discrete(51)
    assert space["agent_expertise"].shape == (30,)
    assert space["agent_workload"].high.max() == 4
    nested = TicketRoutingEnv(cfg, observation_layout="nested").observation_space
    assert nested["agents"]["expertise"].shape == (6, 5)
    assert nested["current_ticket"]["age"].high[0] == np.float32(cfg.max_ticket_age_hours)
    for box in (space["ticket_age"], space["agent_expertise"], space["agent_workload"]):
        assert np.all(np.isfinite(box.low)) and np.all(np.isfinite(box.high))


def test_nested_and_flat_layouts_carry_the_same_values(small_config: EnvironmentConfig) -> None:
    flat, nested = TicketRoutingEnv(small_config), TicketRoutingEnv(small_config, observation_layout="nested")
    of, _ = flat.reset(seed=5)
    on, _ = nested.reset(seed=5)
    for _ in range(20):
        assert of["ticket_type"] == on["current_ticket"]["type"]
        assert of["ticket_priority"] == on["current_ticket"]["priority"]
        np.testing.assert_array_equal(of["agent_expertise"], on["agents"]["expertise"].ravel())
        np.testing.assert_array_equal(of["agent_workload"], on["agents"]["workload"])
        assert of["queue_size"] == on["queue_size"]
        action = first_valid(flat.action_masks())
        of, *_ = flat.step(action)
        on, *_ = nested.step(action)


def test_observation_is_a_copy(env: TicketRoutingEnv) -> None:
    obs, _ = env.reset(seed=0)
    before = obs["agent_workload"].copy()
    env.step(first_valid(env.action_masks()))
    np.testing.assert_array_equal(obs["agent_workload"], before)


def test_info_and_observation_keys_follow_the_declared_names(env: TicketRoutingEnv) -> None:
    obs, _ = env.reset(seed=0)
    obs, _, _, _, info = env.step(first_valid(env.action_masks()))
    assert tuple(obs) == OBSERVATION_KEYS
    assert tuple(info["reward_components"]) == REWARD_COMPONENTS
    assert tuple(info["kpis"]) == COUNT_KPIS
    assert list(info["kpis"].values()) == env.sim.state.counts[0, : len(COUNT_KPIS)].tolist()


def test_a_display_that_does_not_list_the_names_fails_at_import() -> None:
    def display(a: int, b: int) -> dict[str, int]:
        return {"x": a, "y": b}

    check_display(lambda: display(0, 1), ("x", "y"), "display")  # matches: nothing happens
    with pytest.raises(ImportError, match="display must list"):
        check_display(lambda: display(0, 1), ("x", "z"), "display")
    with pytest.raises(ImportError, match="display must list"):
        check_display(lambda: display(0, 1, 2), ("x", "y", "z"), "display")  # a name added to the constants only


def test_reward_is_the_sum_of_named_components(env: TicketRoutingEnv) -> None:
    _, info = env.reset(seed=2)
    seen: set[str] = set()
    for t in range(60):
        action = first_valid(info["action_mask"]) if t % 7 else int(np.argmin(info["action_mask"]))
        _, reward, terminated, truncated, info = env.step(action)
        comps = info["reward_components"]
        assert list(comps) == list(REWARD_COMPONENTS)
        assert float(reward) == pytest.approx(sum(comps.values()))
        seen |= {k for k, v in comps.items() if v != 0.0}
        if terminated or truncated:
            break
    assert {"assignment", "expertise", "resolution"} <= seen


def test_assignment_reward_matches_the_formula(env: TicketRoutingEnv) -> None:
    obs, _ = env.reset(seed=4)
    ticket_type = int(obs["ticket_type"])
    agent = first_valid(env.action_masks())
    expertise = float(env.sim.state.expertise[0, agent, ticket_type])
    _, _, _, _, info = env.step(agent)
    weights = env.config.reward
    assert info["reward_components"]["assignment"] == weights.assignment
    assert info["reward_components"]["expertise"] == pytest.approx(weights.expertise * expertise)


ALWAYS_ON = {
    "shift_hours": 24,
    "work_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
}


def _one_busy_agent_env(retries: int) -> TicketRoutingEnv:
    """Agent 0 takes the first ticket and stays busy for 100 hours; agent 1 is free."""
    cfg = EnvironmentConfig(
        num_agents=2,
        max_workload=1,
        episode_length=50,
        max_invalid_retries=retries,
        agents=ALWAYS_ON,
        service={"distribution": "deterministic", "base_effort_hours": [100.0] * 5, "min_speed": 1.0},
    )
    env = TicketRoutingEnv(cfg)
    env.reset(seed=0)
    env.step(0)
    assert env.action_masks().tolist() == [False, True]
    return env


def test_invalid_action_keeps_the_ticket_and_is_penalised() -> None:
    env = _one_busy_agent_env(retries=3)
    ticket, clock = env.current_ticket(), env.clock_hours
    _, reward, _, _, info = env.step(0)
    assert reward == -env.config.reward.invalid_action
    assert info["reward_components"]["invalid_action"] == -env.config.reward.invalid_action
    assert env.current_ticket() == ticket
    assert env.clock_hours == clock
    assert env.kpis()["invalid_actions"] == 1
    env.step(1)  # a valid action routes the waiting ticket
    assert env.kpis()["tickets_assigned"] == 2


def test_repeated_invalid_actions_let_time_pass() -> None:
    env = _one_busy_agent_env(retries=2)
    clock, arrived = env.clock_hours, env.kpis()["tickets_arrived"]
    env.step(0)
    assert env.clock_hours == clock  # first invalid action: time stands still
    env.step(0)
    assert env.clock_hours > clock  # second in a row: the next event (an arrival) happens
    assert env.kpis()["tickets_arrived"] == arrived + 1
    assert env.kpis()["tickets_waiting"] == 2


def test_out_of_range_actions_raise(env: TicketRoutingEnv) -> None:
    env.reset(seed=0)
    for bad in (-1, 4, 2.5, "a", None):
        with pytest.raises(ValueError, match="action: invalid value"):
            env.step(bad)
    env.step(np.int64(first_valid(env.action_masks())))


def test_step_before_reset_and_after_end_raise(small_config: EnvironmentConfig) -> None:
    env = TicketRoutingEnv(small_config.replace(episode_length=2))
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(0)
    env.reset(seed=0)
    env.step(first_valid(env.action_masks()))
    _, _, _, truncated, info = env.step(first_valid(env.action_masks()))
    assert truncated
    assert "episode_kpis" in info
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(0)


def test_truncation_after_episode_length(env: TicketRoutingEnv) -> None:
    obs, _ = env.reset(seed=3)
    for t in range(env.config.episode_length):
        assert obs["time_step"] == t
        obs, _, terminated, truncated, info = env.step(first_valid(env.action_masks()))
        assert not terminated
        assert truncated == (t == env.config.episode_length - 1)
    kpis = info["episode_kpis"]
    assert kpis["decisions"] == env.config.episode_length
    assert kpis["tickets_assigned"] == env.config.episode_length


def test_action_mask_in_info_matches_method(env: TicketRoutingEnv) -> None:
    _, info = env.reset(seed=8)
    for _ in range(30):
        np.testing.assert_array_equal(info["action_mask"], env.action_masks())
        agents = env.agents()
        expected = [a.has_room for a in agents]
        assert info["action_mask"].tolist() == expected
        _, _, _, _, info = env.step(first_valid(info["action_mask"]))


def test_kpis_in_info_and_conservation(env: TicketRoutingEnv) -> None:
    _, info = env.reset(seed=9)
    for _ in range(50):
        k = info["kpis"]
        assert (
            k["tickets_arrived"]
            == k["tickets_waiting"] + k["tickets_in_service"] + k["tickets_resolved"] + k["tickets_rejected"]
        )
        _, _, _, _, info = env.step(first_valid(info["action_mask"]))
    full = env.kpis()
    for key in (
        "mean_resolution_hours",
        "p90_resolution_hours",
        "sla_compliance_pct",
        "csat_pct",
        "expertise_match_pct",
        "workload_gini",
        "mean_utilization_pct",
    ):
        assert np.isfinite(full[key]), key
    assert 0.0 <= full["csat_pct"] <= 100.0
    assert full["p90_resolution_hours"] >= full["mean_resolution_hours"] * 0.5
    assert len(full["utilization_per_agent"]) == env.config.num_agents


@pytest.mark.parametrize("mode", ["ansi", "human"])
def test_text_render(mode: str, small_config: EnvironmentConfig, capsys: pytest.CaptureFixture[str]) -> None:
    env = TicketRoutingEnv(small_config, render_mode=mode)
    env.reset(seed=0)
    env.step(first_valid(env.action_masks()))
    out = env.render()
    text = out if mode == "ansi" else capsys.readouterr().out
    assert isinstance(text, str)
    assert "ticket :" in text and "agent" in text and "kpis" in text
    assert len(text.splitlines()) >= 4 + small_config.num_agents


def test_rgb_render_returns_an_image(small_config: EnvironmentConfig) -> None:
    env = TicketRoutingEnv(small_config, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.std() > 0
    env.close()


def test_render_without_mode_warns_and_bad_mode_raises(env: TicketRoutingEnv) -> None:
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
    with pytest.raises(ValueError, match="render_mode: invalid value 'video'"):
        TicketRoutingEnv(render_mode="video")


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="observation_layout: invalid value 'tree'"):
        TicketRoutingEnv(observation_layout="tree")
    with pytest.raises(ValueError, match="trace: invalid value"):
        TicketRoutingEnv(trace=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="config: invalid value 3"):
        resolve_config(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_agents: invalid value 0"):
        TicketRoutingEnv(num_agents=0)
    with pytest.raises(ValueError, match="options: unsupported"):
        TicketRoutingEnv().reset(options={"x": 1})


def test_config_from_yaml_path(tmp_path: Any) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("num_agents: 3\n")
    assert TicketRoutingEnv(str(path)).config.num_agents == 3
    assert TicketRoutingEnv({"num_agents": 5}).config.num_agents == 5


def test_pickle_round_trip_continues_identically(env: TicketRoutingEnv) -> None:
    env = TicketRoutingEnv(env.config, render_mode="rgb_array")
    env.reset(seed=11)
    for _ in range(10):
        env.step(first_valid(env.action_masks()))
    env.render()
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(30):
        a = first_valid(env.action_masks())
        o1, r1, *_ = env.step(a)
        o2, r2, *_ = clone.step(a)
        assert r1 == r2
        for key in o1:
            np.testing.assert_array_equal(o1[key], o2[key])


def test_current_ticket_and_agents_records(env: TicketRoutingEnv) -> None:
    obs, _ = env.reset(seed=0)
    ticket = env.current_ticket()
    assert ticket is not None
    assert ticket.age_hours == pytest.approx(float(obs["ticket_age"][0]), abs=1e-5)
    agents = env.agents()
    assert [a.agent_id for a in agents] == list(range(env.config.num_agents))
    assert all(a.workload == 0 for a in agents)
