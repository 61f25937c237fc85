"""The native vector env: Gymnasium vector API, auto-reset, and equivalence with N single envs."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.core.state import I_STEP


def _actions(t: int, masks: np.ndarray) -> np.ndarray:
    """A fixed, deterministic mix of valid and invalid choices."""
    n, a = masks.shape
    acts = np.argmax(masks, axis=1)
    if t % 5 == 0:
        acts = (np.arange(n) + t) % a  # sometimes invalid
    return acts.astype(np.int64)


@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_equivalent_to_single_envs_across_autoresets(layout: str) -> None:
    cfg = EnvironmentConfig(num_agents=4, episode_length=25, max_queue_size=10, max_workload=2)
    n = 5
    vec = TicketRoutingVectorEnv(n, cfg, observation_layout=layout)
    singles = [TicketRoutingEnv(cfg, observation_layout=layout) for _ in range(n)]
    vobs, vinfo = vec.reset(seed=100)
    sobs = [e.reset(seed=100 + i)[0] for i, e in enumerate(singles)]
    needs_reset = [False] * n
    episodes_ended = 0
    for t in range(120):
        _check_obs_rows(vobs, sobs)
        actions = _actions(t, vec.action_masks())
        vobs, vrew, vterm, vtrunc, vinfo = vec.step(actions)
        for i, env in enumerate(singles):
            if needs_reset[i]:
                sobs[i], _ = env.reset()
                assert vrew[i] == 0.0 and not vterm[i] and not vtrunc[i]
                needs_reset[i] = False
                continue
            sobs[i], r, term, trunc, info = env.step(int(actions[i]))
            assert vrew[i] == r
            assert vterm[i] == term and vtrunc[i] == trunc
            np.testing.assert_array_equal(vinfo["action_mask"][i], info["action_mask"])
            for name, value in info["reward_components"].items():
                assert vinfo["reward_components"][name][i] == value
            if term or trunc:
                needs_reset[i] = True
                episodes_ended += 1
                assert vinfo["_episode_kpis"][i]
                for key, value in info["episode_kpis"].items():
                    np.testing.assert_array_equal(vinfo["episode_kpis"][key][i], value)
    assert episodes_ended >= 2 * n


def _check_obs_rows(vobs: dict, sobs: list[dict]) -> None:  # type: ignore[type-arg]
    for i, single in enumerate(sobs):
        for key, value in single.items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    np.testing.assert_array_equal(vobs[key][sub][i], v)
            else:
                np.testing.assert_array_equal(vobs[key][i], value)


def test_threads_give_identical_results() -> None:
    cfg = EnvironmentConfig(num_agents=5, episode_length=30)
    one, two = TicketRoutingVectorEnv(7, cfg), TicketRoutingVectorEnv(7, cfg, threads=3)
    o1, _ = one.reset(seed=3)
    o2, _ = two.reset(seed=3)
    for t in range(80):
        actions = _actions(t, one.action_masks())
        o1, r1, te1, tr1, _ = one.step(actions)
        o2, r2, te2, tr2, _ = two.step(actions)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(te1 | tr1, te2 | tr2)
        for key in o1:
            np.testing.assert_array_equal(o1[key], o2[key])
    clone = pickle.loads(pickle.dumps(two))
    np.testing.assert_array_equal(clone.step(actions)[1], two.step(actions)[1])
    two.close()
    clone.close()
    with pytest.raises(ValueError, match="threads: invalid value 0"):
        TicketRoutingVectorEnv(2, threads=0)


def test_spaces_dtypes_and_metadata() -> None:
    cfg = EnvironmentConfig(num_agents=3)
    vec = TicketRoutingVectorEnv(4, cfg)
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert vec.single_action_space == gym.spaces.Discrete(3)
    assert vec.action_space.shape == (4,)
    obs, info = vec.reset(seed=0)
    assert vec.observation_space.contains(obs)
    assert obs["agent_expertise"].shape == (4, 15) and obs["agent_expertise"].dtype == np.float32
    assert obs["ticket_type"].shape == (4,)
    assert vec.action_masks().shape == (4, 3)
    assert info["_action_mask"].all()
    obs, rew, term, trunc, info = vec.step(np.zeros(4, dtype=np.int64))
    assert vec.observation_space.contains(obs)
    assert rew.dtype == np.float64 and term.dtype == np.bool_ and trunc.dtype == np.bool_
    assert "episode_kpis" not in info


def test_make_vec_uses_the_native_vector_env() -> None:
    vec = gym.make_vec("TicketRouting-v0", num_envs=3, vectorization_mode="vector_entry_point", num_agents=5)
    assert isinstance(vec, TicketRoutingVectorEnv)
    assert vec.action_space.shape == (3,)


def test_seeding_is_reproducible_and_per_env() -> None:
    a, b = TicketRoutingVectorEnv(3), TicketRoutingVectorEnv(3)
    oa, _ = a.reset(seed=7)
    ob, _ = b.reset(seed=[7, 8, 9])
    np.testing.assert_array_equal(oa["agent_expertise"], ob["agent_expertise"])
    assert not np.array_equal(oa["agent_expertise"][0], oa["agent_expertise"][1])
    with pytest.raises(ValueError, match="seed: expected 3 seeds"):
        a.reset(seed=[1, 2])


def test_bad_actions_and_usage_raise() -> None:
    vec = TicketRoutingVectorEnv(2, EnvironmentConfig(num_agents=3))
    with pytest.raises(RuntimeError, match="before reset"):
        vec.step(np.zeros(2, dtype=np.int64))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions\[1\]: invalid value 3"):
        vec.step(np.array([0, 3]))
    with pytest.raises(ValueError, match="expected 2 integer agent indices"):
        vec.step(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="expected 2 integer agent indices"):
        vec.step(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="expected 2 integer agent indices"):
        vec.step(np.array([True, False]))
    with pytest.raises(ValueError, match=r"actions\[0\]: invalid value -1"):
        vec.step(np.array([-1, 0], dtype=np.int8))
    with pytest.raises(ValueError, match=r"actions\[1\]: invalid value 18446744073709551615"):
        vec.step(np.array([0, 2**64 - 1], dtype=np.uint64))  # wraps to -1 in the int64 buffer: still refused
    assert vec.sim.state.counts[:, I_STEP].tolist() == [0, 0]  # a refused step changes nothing
    vec.step(np.array([2, 1], dtype=np.uint8))  # any integer dtype with valid values is taken
    assert vec.sim.state.counts[:, I_STEP].tolist() == [1, 1]
    with pytest.raises(ValueError, match="render_mode"):
        TicketRoutingVectorEnv(2, render_mode="human")
    with pytest.raises(ValueError, match="options: unsupported"):
        vec.reset(options={"a": 1})


def test_partial_reset_with_a_mask() -> None:
    vec = TicketRoutingVectorEnv(3, EnvironmentConfig(episode_length=50))
    vec.reset(seed=4)
    for _ in range(5):
        vec.step(np.argmax(vec.action_masks(), axis=1))
    obs, _ = vec.reset(options={"reset_mask": np.array([False, True, False])})
    assert obs["time_step"].tolist() == [5, 0, 5]
    fresh = TicketRoutingEnv(EnvironmentConfig(episode_length=50))
    fresh.reset(seed=5)
    for _ in range(5):
        fresh.step(int(np.argmax(fresh.action_masks())))
    second, _ = fresh.reset()  # sub-env 1 continues its streams exactly like an unseeded reset
    np.testing.assert_array_equal(obs["agent_expertise"][1], second["agent_expertise"])
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": np.array([1, 0, 1])})
    with pytest.raises(RuntimeError, match="full reset"):
        TicketRoutingVectorEnv(2).reset(options={"reset_mask": np.array([True, False])})


def test_episodes_done_flags_next_step_reset() -> None:
    vec = TicketRoutingVectorEnv(2, EnvironmentConfig(episode_length=3))
    vec.reset(seed=1)
    for _ in range(3):
        _, _, _, trunc, _ = vec.step(np.argmax(vec.action_masks(), axis=1))
    assert trunc.all() and vec.episodes_done.all()
    obs, rew, _, _, _ = vec.step(np.zeros(2, dtype=np.int64))
    assert not vec.episodes_done.any()
    assert (obs["time_step"] == 0).all() and (rew == 0).all()


@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_same_step_autoreset_equivalent_to_single_envs(layout: str) -> None:
    cfg = EnvironmentConfig(num_agents=4, episode_length=20, max_queue_size=10, max_workload=2)
    n = 4
    vec = TicketRoutingVectorEnv(n, cfg, observation_layout=layout, autoreset_mode="SameStep")
    assert vec.autoreset_mode == AutoresetMode.SAME_STEP
    assert vec.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert TicketRoutingVectorEnv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP  # class default untouched
    singles = [TicketRoutingEnv(cfg, observation_layout=layout) for _ in range(n)]
    vobs, _ = vec.reset(seed=30)
    sobs = [e.reset(seed=30 + i)[0] for i, e in enumerate(singles)]
    ended_total = 0
    for t in range(70):
        _check_obs_rows(vobs, sobs)
        actions = _actions(t, vec.action_masks())
        vobs, vrew, vterm, vtrunc, vinfo = vec.step(actions)
        ended = vterm | vtrunc
        assert ("final_obs" in vinfo) == bool(ended.any())
        for i, env in enumerate(singles):
            obs, r, term, trunc, info = env.step(int(actions[i]))
            assert vrew[i] == r and vterm[i] == term and vtrunc[i] == trunc
            if term or trunc:
                ended_total += 1
                assert vinfo["_final_obs"][i] and vinfo["_final_info"][i]
                _check_obs_rows(_stack(vinfo["final_obs"][i]), [obs])  # type: ignore[arg-type]
                final = vinfo["final_info"]
                np.testing.assert_array_equal(final["action_mask"][i], info["action_mask"])
                assert final["episode_kpis"]["decisions"][i] == info["episode_kpis"]["decisions"]
                sobs[i], reset_info = env.reset()
                np.testing.assert_array_equal(vinfo["action_mask"][i], reset_info["action_mask"])
            else:
                sobs[i] = obs
                if "final_obs" in vinfo:
                    assert vinfo["final_obs"][i] is None and not vinfo["_final_info"][i]
    assert ended_total >= 2 * n


def _stack(value: object) -> object:
    """A single observation entry as a batch of one."""
    if isinstance(value, dict):
        return {k: _stack(v) for k, v in value.items()}
    return np.asarray(value)[None]


def test_disabled_autoreset_needs_a_masked_reset_and_matches_single_envs() -> None:
    cfg = EnvironmentConfig(num_agents=3, episode_length=6)
    n = 3
    vec = gym.make_vec(
        "TicketRouting-v0",
        num_envs=n,
        vectorization_mode="vector_entry_point",
        config=cfg,
        autoreset_mode="disabled",
    )
    assert vec.metadata["autoreset_mode"] == AutoresetMode.DISABLED
    singles = [TicketRoutingEnv(cfg) for _ in range(n)]
    vobs, _ = vec.reset(seed=11)
    sobs = [e.reset(seed=11 + i)[0] for i, e in enumerate(singles)]
    episodes = 0
    for t in range(20):
        _check_obs_rows(vobs, sobs)
        actions = _actions(t, vec.action_masks())
        vobs, vrew, vterm, vtrunc, _ = vec.step(actions)
        for i, env in enumerate(singles):
            sobs[i], r, term, trunc, _ = env.step(int(actions[i]))
            assert vrew[i] == r and vterm[i] == term and vtrunc[i] == trunc
        ended = vterm | vtrunc
        if ended.any():
            episodes += int(ended.sum())
            with pytest.raises(RuntimeError, match=r"sub-environment\(s\) \[0, 1, 2\] ended and autoreset_mode"):
                vec.step(actions)
            vobs, _ = vec.reset(options={"reset_mask": ended})
            for i in np.flatnonzero(ended):
                sobs[i], _ = singles[i].reset()
    assert episodes == 3 * n
    with pytest.raises(ValueError, match="autoreset_mode: invalid value 'later'"):
        TicketRoutingVectorEnv(2, autoreset_mode="later")


def test_reset_with_an_all_false_mask_is_a_no_op() -> None:
    vec = TicketRoutingVectorEnv(3, EnvironmentConfig(num_agents=3, episode_length=40))
    vec.reset(seed=5)
    for _ in range(4):
        vec.step(np.argmax(vec.action_masks(), axis=1))
    before = vec.sim.state.counts.copy(), vec.sim.state.rng.copy()
    obs, info = vec.reset(seed=5, options={"reset_mask": np.zeros(3, dtype=np.bool_)})
    assert obs["time_step"].tolist() == [4, 4, 4]
    np.testing.assert_array_equal(info["action_mask"], vec.action_masks())
    np.testing.assert_array_equal(vec.sim.state.counts, before[0])
    np.testing.assert_array_equal(vec.sim.state.rng, before[1])


def test_max_episode_steps_spec_unknown_keywords_and_kpis() -> None:
    vec = gym.make_vec("TicketRouting-v0", num_envs=2, vectorization_mode="vector_entry_point", max_episode_steps=7)
    assert vec.unwrapped.config.episode_length == 7  # type: ignore[attr-defined]
    assert vec.spec is not None and vec.spec.max_episode_steps == 7
    assert TicketRoutingVectorEnv(2).spec is None
    with pytest.raises(TypeError, match="unexpected keyword argument 'frameskip'") as err:
        TicketRoutingVectorEnv(2, frameskip=1)
    assert isinstance(err.value, ValueError)
    assert "autoreset_mode" in str(err.value) and "num_agents" in str(err.value)
    with pytest.raises(ValueError, match="max_episode_steps: invalid value 5; it is another name for episode_length"):
        TicketRoutingVectorEnv(2, max_episode_steps=5, episode_length=6)
    quiet = TicketRoutingVectorEnv(2, EnvironmentConfig(episode_length=3), episode_kpis_in_info=False)
    _, info = quiet.reset(seed=0)
    keys = set(info)
    for _ in range(3):
        _, _, _, trunc, info = quiet.step(np.argmax(quiet.action_masks(), axis=1))
        assert set(info) == keys
    assert trunc.all()
    single = TicketRoutingEnv(EnvironmentConfig(episode_length=3))
    single.reset(seed=1)
    for _ in range(3):
        *_, last = single.step(int(np.argmax(single.action_masks())))
    np.testing.assert_equal(quiet.kpis(1), last["episode_kpis"])
    with pytest.raises(ValueError, match="index: invalid value 2"):
        quiet.kpis(2)
    with pytest.raises(ValueError, match="episode_kpis_in_info: invalid value 1"):
        TicketRoutingVectorEnv(2, episode_kpis_in_info=1)  # type: ignore[arg-type]
