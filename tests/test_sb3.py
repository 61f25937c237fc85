"""The Stable-Baselines3 adapter over the native vector env, and trained models as policies."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.evaluation import evaluate
from rl_environments.ticket_routing.sb3 import (
    NORMALIZATION_FILE,
    SCALAR_KEYS,
    TICKET_EXPERTISE_KEY,
    AgentScorePolicy,
    AgentSetExtractor,
    MaskableAgentScorePolicy,
    ObservationNormalizer,
    SB3Policy,
    TicketRoutingSB3VecEnv,
    detect_algorithm,
    engineered_space,
    load_model,
    load_policy,
    normalized_keys,
    save_normalization,
)

torch.set_num_threads(1)

# Two agents with disjoint skills and a reward that pays only for expertise: the best agent
# depends on the ticket type, so a policy must read the observation to beat chance (0.5 per step).
SKILLS = EnvironmentConfig.from_dict(
    {
        "num_agents": 2,
        "episode_length": 64,
        "max_workload": 10,
        "arrivals": {"rate_per_day": 2.0},
        "agents": {"expertise": [[1.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0]]},
        "reward": {
            "assignment": 0.0,
            "expertise": 1.0,
            "resolution": 0.0,
            "imbalance": 0.0,
            "invalid_action": 1.0,
            "rejection": 0.0,
        },
    }
)
SHORT = EnvironmentConfig(episode_length=5)
NORM_KEYS = ["ticket_age", "agent_workload", "agent_next_change_hours", "agent_remaining_work"]


def _valid_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.array([rng.choice(np.flatnonzero(row)) for row in masks], dtype=np.int64)


def _expert_rate(policy: SB3Policy, episodes: int = 4) -> float:
    df = evaluate(policy, SKILLS, episodes=episodes, seed=5_000)
    return float(df["expertise_match_pct"].mean()) / 100.0


# --------------------------------------------------------------------- the VecEnv adapter
def test_spaces_and_reset_shapes() -> None:
    venv = TicketRoutingSB3VecEnv(3, SHORT)
    obs = venv.reset()
    assert venv.num_envs == 3
    assert venv.observation_space == venv.venv.single_observation_space
    assert venv.action_space.n == SHORT.num_agents
    for key, space in venv.observation_space.spaces.items():
        assert obs[key].shape == (3, *space.shape), key
    assert venv.get_attr("render_mode") == [None, None, None]
    assert venv.get_attr("config", indices=1) == [SHORT]
    assert venv.env_is_wrapped(VecMonitor) == [False] * 3
    assert venv.get_images() == [None] * 3
    venv.close()


def test_same_step_autoreset_matches_single_envs() -> None:
    """SB3 semantics: the step that ends an episode returns the next episode's first observation."""
    n, seed = 2, 11
    venv = TicketRoutingSB3VecEnv(n, SHORT)
    venv.seed(seed)
    obs = venv.reset()
    singles = [TicketRoutingEnv(SHORT) for _ in range(n)]
    single_obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(3 * SHORT.episode_length + 2):
        for i in range(n):
            for key in obs:
                np.testing.assert_array_equal(obs[key][i], single_obs[i][key], err_msg=key)
        actions = _valid_actions(venv.action_masks(), rng)
        obs, rewards, dones, infos = venv.step(actions)
        assert rewards.dtype == np.float32
        for i, env in enumerate(singles):
            o, r, terminated, truncated, info = env.step(int(actions[i]))
            assert rewards[i] == pytest.approx(r)
            assert dones[i] == (terminated or truncated)
            if dones[i]:
                ends += 1
                for key in o:
                    np.testing.assert_array_equal(infos[i]["terminal_observation"][key], o[key])
                assert infos[i]["TimeLimit.truncated"] is True
                assert infos[i]["episode_kpis"]["decisions"] == SHORT.episode_length
                assert infos[i]["episode_kpis"]["mean_resolution_hours"] == pytest.approx(
                    info["episode_kpis"]["mean_resolution_hours"], nan_ok=True
                )
                o, _ = env.reset()
                assert int(obs["time_step"][i]) == 0
            else:
                assert infos[i] == {}
            single_obs[i] = o
    assert ends == 3 * n


def test_seed_makes_resets_reproducible() -> None:
    a, b = TicketRoutingSB3VecEnv(2, SHORT), TicketRoutingSB3VecEnv(2, SHORT)
    assert a.seed(3) == [3, 4]
    b.seed(3)
    first, second = a.reset(), b.reset()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert all(s is None for s in a._seeds)  # consumed by the reset


def test_action_masks_for_maskable_ppo() -> None:
    venv = TicketRoutingSB3VecEnv(4, EnvironmentConfig(num_agents=3, max_workload=1))
    venv.reset()
    rng = np.random.default_rng(1)
    seen_invalid = False
    for _ in range(20):
        masks = venv.venv.action_masks()
        np.testing.assert_array_equal(get_action_masks(venv), masks)
        np.testing.assert_array_equal(venv.env_method("action_masks", indices=[2])[0], masks[2])
        np.testing.assert_array_equal(venv.get_attr("action_masks", indices=0)[0](), masks[0])
        seen_invalid |= not masks.all()
        venv.step(_valid_actions(masks, rng))
    assert seen_invalid, "max_workload=1 should take agents out of the mask"
    assert is_masking_supported(venv)
    assert is_masking_supported(VecMonitor(venv))
    kpis = venv.env_method("kpis", indices=0)[0]
    assert kpis["decisions"] > 0


def test_adapter_errors_name_the_problem() -> None:
    venv = TicketRoutingSB3VecEnv(2, SHORT)
    venv.reset()
    with pytest.raises(ValueError, match="actions"):
        venv.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(AttributeError, match="nope"):
        venv.get_attr("nope")
    with pytest.raises(AttributeError, match="render"):
        venv.env_method("render")
    with pytest.raises(AttributeError, match="num_agents"):
        venv.set_attr("num_agents", 3)
    with pytest.raises(ValueError, match="config"):
        TicketRoutingSB3VecEnv(2, SHORT, vector_env=TicketRoutingVectorEnv(2, SHORT))
    with pytest.raises(ValueError, match="observation_layout"):
        TicketRoutingSB3VecEnv(vector_env=TicketRoutingVectorEnv(2, SHORT, observation_layout="nested"))
    wrapped = TicketRoutingSB3VecEnv(vector_env=TicketRoutingVectorEnv(2, SHORT))
    assert wrapped.config == SHORT


# --------------------------------------------------------------------- learning through the adapter
def _train(algo: type[Any], tmp_path: Path, **kwargs: Any) -> Path:
    # Shift and remaining-work inputs are in hours: standardise them, as train_sb3_ppo.py does.
    raw = TicketRoutingSB3VecEnv(8, SKILLS)
    keys = normalized_keys(raw.observation_space)  # type: ignore[arg-type]
    env = VecNormalize(VecMonitor(raw), norm_obs_keys=keys, norm_reward=False)
    model = algo(
        "MultiInputPolicy",
        env,
        n_steps=64,
        batch_size=128,
        n_epochs=8,
        learning_rate=3e-3,
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [32]},
        **kwargs,
    )
    model.learn(total_timesteps=4096)
    path = tmp_path / "model.zip"
    model.save(path)
    save_normalization(env, tmp_path)
    return path


def test_ppo_learns_through_the_adapter(tmp_path: Path) -> None:
    path = _train(PPO, tmp_path)
    untrained = PPO("MultiInputPolicy", TicketRoutingSB3VecEnv(1, SKILLS), seed=0, device="cpu")
    untrained.save(tmp_path / "untrained.zip")
    before = _expert_rate(SB3Policy(tmp_path / "untrained.zip", SKILLS))
    after = _expert_rate(SB3Policy(path, SKILLS))
    assert after > 0.9 > before + 0.2


def test_maskable_ppo_learns_and_never_takes_a_masked_action(tmp_path: Path) -> None:
    path = _train(MaskablePPO, tmp_path)
    policy = load_policy(path, SKILLS)
    assert policy.algo == "maskable_ppo" and policy.name == "maskable_ppo"
    assert _expert_rate(policy) > 0.9
    # Tight capacity so masks bite: the trained policy must route around full agents.
    tight = SKILLS.replace(max_workload=1, arrivals={"rate_per_day": 200.0})
    env = TicketRoutingVectorEnv(4, tight)
    obs, info = env.reset(seed=77)
    masked_seen = 0
    for _ in range(300):
        masks = info["action_mask"]
        actions = policy.act_batch(obs, masks)
        assert masks[np.arange(4), actions].all()
        masked_seen += int((~masks).any(axis=1).sum())
        obs, _, _, _, info = env.step(actions)
    assert masked_seen > 0
    df = evaluate(policy, tight, episodes=3, seed=9)
    assert (df["invalid_actions"] == 0).all()


# --------------------------------------------------------------------- saved models as policies
@pytest.fixture(scope="module")
def saved_ppo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A briefly trained PPO saved with its observation statistics."""
    out = tmp_path_factory.mktemp("ppo")
    env = VecNormalize(VecMonitor(TicketRoutingSB3VecEnv(4, SHORT)), norm_obs_keys=NORM_KEYS)
    model = PPO("MultiInputPolicy", env, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=64)
    model.save(out / "model.zip")
    save_normalization(env, out)
    return out / "model.zip"


def test_saved_model_reloads_and_predicts(saved_ppo: Path) -> None:
    assert detect_algorithm(saved_ppo) == "ppo"
    assert (saved_ppo.parent / NORMALIZATION_FILE).is_file()
    policy = SB3Policy(saved_ppo, SHORT)
    assert policy.normalizer is not None
    env = TicketRoutingEnv(SHORT)
    obs, info = env.reset(seed=1)
    action = policy.act(obs, info["action_mask"])
    assert 0 <= action < SHORT.num_agents
    # Same observation, same (deterministic) action from a fresh load.
    assert SB3Policy(saved_ppo).act(obs, info["action_mask"]) == action
    model = load_model(saved_ppo, "ppo")
    normalized = policy.normalizer({k: np.asarray(v)[None] for k, v in obs.items()})
    expected, _ = model.predict(normalized, deterministic=True)
    assert int(expected[0]) == action
    policy.reset(seed=3)


def test_normalizer_matches_vecnormalize(saved_ppo: Path) -> None:
    venv = VecNormalize(TicketRoutingSB3VecEnv(2, SHORT), norm_obs_keys=NORM_KEYS)
    venv.reset()
    for _ in range(10):
        venv.step(np.zeros(2, dtype=np.int64))
    save_normalization(venv, saved_ppo.parent / "other")
    normalizer = ObservationNormalizer(saved_ppo.parent / "other" / NORMALIZATION_FILE)
    raw = venv.get_original_obs()
    ours = normalizer(raw)
    theirs = venv.normalize_obs(raw)
    for key in NORM_KEYS:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours["ticket_type"], raw["ticket_type"])


def test_masked_inference_for_plain_ppo(saved_ppo: Path) -> None:
    env = TicketRoutingVectorEnv(2, SHORT)
    obs, _ = env.reset(seed=2)
    masks = np.zeros((2, SHORT.num_agents), dtype=np.bool_)
    masks[0, 3] = True
    masks[1, [1, 4]] = True
    greedy = SB3Policy(saved_ppo, mask_invalid=True)
    actions = greedy.act_batch(obs, masks)
    assert actions[0] == 3 and actions[1] in (1, 4)
    sampler = SB3Policy(saved_ppo, mask_invalid=True, deterministic=False)
    sampler.reset(seed=0)
    for _ in range(20):
        actions = sampler.act_batch(obs, masks)
        assert masks[np.arange(2), actions].all()


def test_policy_rejects_bad_paths_and_mismatched_scenarios(saved_ppo: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file not found"):
        SB3Policy(tmp_path / "missing.zip")
    bogus = tmp_path / "bogus.zip"
    bogus.write_text("not a zip")
    with pytest.raises(ValueError, match="not a Stable-Baselines3 model"):
        SB3Policy(bogus)
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("other", "x")
    with pytest.raises(ValueError, match="not a Stable-Baselines3 model"):
        detect_algorithm(tmp_path / "empty.zip")
    with pytest.raises(ValueError, match="algo"):
        load_model(saved_ppo, "dqn")
    with pytest.raises(ValueError, match="num_agents=4"):
        SB3Policy(saved_ppo, EnvironmentConfig(num_agents=4))


def test_save_normalization_needs_dict_observations(tmp_path: Path) -> None:
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    box = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    with pytest.raises(ValueError, match="vec_normalize"):
        save_normalization(box, tmp_path)


# --------------------------------------------------------------------- engineered observations, staggered starts
def test_engineered_observation_space_and_values() -> None:
    venv = TicketRoutingSB3VecEnv(3, SHORT, engineered=True)
    obs = venv.reset()
    assert venv.observation_space.contains({key: value[0] for key, value in obs.items()})
    expertise = obs["agent_expertise"].reshape(3, SHORT.num_agents, 5)
    for i in range(3):
        np.testing.assert_array_equal(obs[TICKET_EXPERTISE_KEY][i], expertise[i, :, obs["ticket_type"][i]])
    for key in SCALAR_KEYS:
        assert obs[key].shape == (3, 1) and obs[key].dtype == np.float32
    expected = {"ticket_age", "agent_workload", "agent_next_change_hours", "agent_remaining_work", *SCALAR_KEYS}
    assert set(normalized_keys(venv.observation_space)) == expected
    assert set(normalized_keys(TicketRoutingSB3VecEnv(1, SHORT).observation_space)) == set(NORM_KEYS)
    obs, *_ = venv.step(np.zeros(3, dtype=np.int64))
    assert obs["time_step"][0, 0] == 1.0
    with pytest.raises(ValueError, match="queue_size"):
        engineered_space(engineered_space(venv.venv.single_observation_space))


def test_stagger_desynchronises_first_episodes() -> None:
    length, n = 8, 4
    venv = TicketRoutingSB3VecEnv(n, EnvironmentConfig(episode_length=length), stagger=True)
    venv.reset()
    ends: list[list[int]] = [[] for _ in range(n)]
    with_kpis: list[list[bool]] = [[] for _ in range(n)]
    for t in range(1, 3 * length + 1):
        _, _, dones, infos = venv.step(np.array([0] * n, dtype=np.int64))
        for i in np.flatnonzero(dones):
            assert infos[i]["TimeLimit.truncated"] is True
            ends[i].append(t)
            with_kpis[i].append("episode_kpis" in infos[i])
    assert [e[0] for e in ends] == [2, 4, 6, 8]  # first episodes cut at length * (i + 1) / n
    for i in range(n):
        assert np.all(np.diff(ends[i]) == length)  # then full episodes, out of phase
    assert [k[0] for k in with_kpis] == [False, False, False, True]
    assert all(all(k[1:]) for k in with_kpis)
    venv.reset()  # a new reset staggers again
    _, _, dones, _ = venv.step(np.zeros(n, dtype=np.int64))
    _, _, dones, _ = venv.step(np.zeros(n, dtype=np.int64))
    assert dones.tolist() == [True, False, False, False]


def test_engineered_model_reloads_as_policy(tmp_path: Path) -> None:
    env = TicketRoutingSB3VecEnv(2, SHORT, engineered=True)
    model = PPO("MultiInputPolicy", env, n_steps=8, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=16)
    model.save(tmp_path / "model.zip")
    policy = SB3Policy(tmp_path / "model.zip", SHORT)
    assert policy.engineered and policy.normalizer is None
    df = evaluate(policy, SHORT, episodes=2, seed=3)
    assert len(df) == 2 and (df["decisions"] == SHORT.episode_length).all()
    with pytest.raises(ValueError, match="time_step"):
        policy.check_config(SHORT.replace(episode_length=6))


def test_cli_compare_with_a_model(saved_ppo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rl_environments.ticket_routing.cli import main

    args = ["compare", "--episodes", "2", "--episode-length", "5", "--policies", "least_loaded"]
    assert main([*args, "--model", str(saved_ppo), "--model", str(saved_ppo)]) == 0
    out = capsys.readouterr().out
    assert "least_loaded" in out and "│ ppo " in out and "│ ppo_2 " in out
    assert main([*args, "--episode-length", "7", "--model", str(saved_ppo)]) == 2
    assert "time_step" in capsys.readouterr().err


def test_agent_set_extractor_is_permutation_equivariant() -> None:
    from stable_baselines3.common.preprocessing import preprocess_obs

    venv = TicketRoutingSB3VecEnv(3, SHORT, engineered=True)
    obs = venv.reset()
    space = venv.observation_space
    extractor = AgentSetExtractor(space, embed_dim=4)
    assert extractor.features_dim == (SHORT.num_agents + 1) * 4

    def features(batch: dict[str, np.ndarray]) -> np.ndarray:
        tensors = {key: torch.as_tensor(value) for key, value in batch.items()}
        with torch.no_grad():
            return extractor(preprocess_obs(tensors, space)).numpy()

    perm = np.random.default_rng(0).permutation(SHORT.num_agents)
    permuted = dict(obs)
    for key in ("agent_workload", "agent_availability", TICKET_EXPERTISE_KEY):
        permuted[key] = obs[key][:, perm]
    permuted["agent_expertise"] = obs["agent_expertise"].reshape(3, SHORT.num_agents, 5)[:, perm].reshape(3, -1)
    base, moved = features(obs), features(permuted)
    a = SHORT.num_agents
    np.testing.assert_allclose(
        moved[:, : a * 4].reshape(3, a, 4), base[:, : a * 4].reshape(3, a, 4)[:, perm], atol=1e-6
    )
    np.testing.assert_allclose(moved[:, a * 4 :], base[:, a * 4 :], atol=1e-6)
    with pytest.raises(ValueError, match="engineered"):
        AgentSetExtractor(TicketRoutingSB3VecEnv(1, SHORT).observation_space)


@pytest.mark.parametrize("algo", [PPO, MaskablePPO])
def test_agent_score_policies_learn_and_reload(algo: type[Any], tmp_path: Path) -> None:
    policy_class = MaskableAgentScorePolicy if algo is MaskablePPO else AgentScorePolicy
    env = VecMonitor(TicketRoutingSB3VecEnv(8, SKILLS, engineered=True))
    env = VecNormalize(env, norm_obs_keys=normalized_keys(env.observation_space))
    model = algo(policy_class, env, n_steps=64, batch_size=128, n_epochs=8, learning_rate=3e-3, seed=0, device="cpu")
    assert isinstance(model.policy.action_net, torch.nn.Module)
    assert sum(p.numel() for p in model.policy.action_net.parameters()) == 16 + 1  # one shared score
    model.learn(total_timesteps=4096)
    model.save(tmp_path / "model.zip")
    save_normalization(env, tmp_path)
    expected = "maskable_ppo" if algo is MaskablePPO else "ppo"
    assert detect_algorithm(tmp_path / "model.zip") == expected
    policy = SB3Policy(tmp_path / "model.zip", SKILLS)
    assert policy.algo == expected
    assert _expert_rate(policy) > 0.9


def test_agent_score_policy_needs_the_shared_extractor() -> None:
    env = TicketRoutingSB3VecEnv(2, SHORT, engineered=True)
    with pytest.raises(ValueError, match="pi=\\[\\]"):
        PPO(AgentScorePolicy, env, policy_kwargs={"net_arch": [8]}, device="cpu")
