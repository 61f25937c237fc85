"""The Stable-Baselines3 adapter over the native vector env, and trained models as policies."""

from __future__ import annotations

import contextlib
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces as gym_spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    ModelFileError,
    ObservationNormalizer,
    SB3Policy,
    TicketRoutingSB3VecEnv,
    detect_algorithm,
    engineered_space,
    load_model,
    load_policy,
    normalized_keys,
    read_model_spec,
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


# --------------------------------------------------------------------- safe loading: nothing from the file runs
class _Payload:
    """Unpickling this creates ``marker``: stands for any code a crafted model file could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def _rewrite(src: Path, dst: Path, **members: bytes) -> Path:
    """A copy of the zip ``src`` with some members replaced (or added)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, members.pop(info.filename, old.read(info.filename)))
        for name, raw in members.items():
            new.writestr(name, raw)
    return dst


def _data(path: Path) -> dict[str, Any]:
    import json

    with zipfile.ZipFile(path) as archive:
        data: dict[str, Any] = json.loads(archive.read("data"))
    return data


def _with_data(src: Path, dst: Path, data: object) -> Path:
    import json

    return _rewrite(src, dst, data=json.dumps(data).encode())


def _evil_model(saved: Path, tmp_path: Path, marker: Path) -> Path:
    import base64
    import pickle

    data = _data(saved)
    payload = base64.b64encode(pickle.dumps(_Payload(marker))).decode()
    for key in ("policy_class", "observation_space", "action_space", "lr_schedule", "clip_range"):
        data[key][":serialized:"] = payload
    data["policy_kwargs"] = {":type:": "<class 'dict'>", ":serialized:": payload}
    return _with_data(saved, tmp_path / "evil.zip", data)


def test_a_crafted_model_runs_no_code(saved_ppo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rl_environments.ticket_routing.cli import main

    marker = tmp_path / "pwned"
    evil = _evil_model(saved_ppo, tmp_path, marker)
    (tmp_path / NORMALIZATION_FILE).write_bytes((saved_ppo.parent / NORMALIZATION_FILE).read_bytes())
    # The payload is live: Stable-Baselines3's own loader runs it.
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        PPO.load(evil, device="cpu")
    assert marker.exists()
    marker.unlink()
    # Ours reads the readable fields beside each pickle and never the pickle itself. policy_kwargs
    # here has nothing readable: {} (defaults), so the model loads and predicts as the genuine one.
    policy = SB3Policy(evil, SHORT)
    env = TicketRoutingEnv(SHORT)
    obs, info = env.reset(seed=4)
    assert policy.act(obs, info["action_mask"]) == SB3Policy(saved_ppo, SHORT).act(obs, info["action_mask"])
    assert not marker.exists()
    # A policy class known only through its pickle is refused, naming the field.
    data = _data(evil)
    data["policy_class"]["__module__"] = "evil"
    refused = _with_data(evil, tmp_path / "evil_class.zip", data)
    with pytest.raises(ModelFileError, match=r"data\.policy_class: .* is not a policy this project can rebuild"):
        SB3Policy(refused)
    args = ["compare", "--episodes", "2", "--episode-length", "5", "--policies", "random", "--model", str(refused)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("ticket-routing: error: model:") and "data.policy_class" in err
    assert "Traceback" not in err
    # Weights that are a pickle with code are refused by torch.load(weights_only=True).
    weights = tmp_path / "evil_weights.pth"
    torch.save({"x": _Payload(marker)}, weights)
    with pytest.raises(ModelFileError, match=r"policy\.pth: not readable as plain weights"):
        load_model(_rewrite(saved_ppo, tmp_path / "evil_w.zip", **{"policy.pth": weights.read_bytes()}))
    assert not marker.exists()


@pytest.mark.parametrize("algo", [PPO, MaskablePPO])
@pytest.mark.parametrize("policy", ["MultiInputPolicy", "agent_scores", "custom_kwargs"])
def test_genuine_models_load_and_predict_as_with_sb3(algo: type[Any], policy: str, tmp_path: Path) -> None:
    engineered = policy == "agent_scores"
    venv = TicketRoutingSB3VecEnv(3, SHORT, engineered=engineered)
    kwargs: dict[str, Any] = {}
    policy_class: Any = "MultiInputPolicy"
    if engineered:
        policy_class = MaskableAgentScorePolicy if algo is MaskablePPO else AgentScorePolicy
        kwargs["policy_kwargs"] = {"features_extractor_kwargs": {"embed_dim": 8, "hidden": 16}}
    if policy == "custom_kwargs":
        kwargs["policy_kwargs"] = {
            "net_arch": {"pi": [32], "vf": [16, 16]},
            "activation_fn": torch.nn.ReLU,
            "ortho_init": False,
            "optimizer_kwargs": {"eps": 1e-5},
        }
    model = algo(policy_class, venv, n_steps=8, batch_size=12, n_epochs=1, seed=0, device="cpu", **kwargs)
    model.learn(total_timesteps=24)
    model.save(tmp_path / "model.zip")
    ours = load_model(tmp_path / "model.zip")
    theirs = algo.load(tmp_path / "model.zip", device="cpu")
    assert type(ours) is algo
    assert ours.observation_space == theirs.observation_space and ours.action_space == theirs.action_space
    obs = venv.reset()
    masks = venv.action_masks()
    tensors = ours.policy.obs_to_tensor(obs)[0]
    with torch.no_grad():
        for a, b in zip(ours.policy.state_dict().values(), theirs.policy.state_dict().values(), strict=True):
            assert torch.equal(a, b)
        mine = ours.policy.get_distribution(tensors).distribution.probs  # type: ignore[operator]
        sb3s = theirs.policy.get_distribution(tensors).distribution.probs  # type: ignore[operator]
    assert torch.equal(mine, sb3s)
    extra = {"action_masks": masks} if algo is MaskablePPO else {}
    np.testing.assert_array_equal(
        ours.predict(obs, deterministic=True, **extra)[0], theirs.predict(obs, deterministic=True, **extra)[0]
    )
    assert read_model_spec(tmp_path / "model.zip").algo == ("maskable_ppo" if algo is MaskablePPO else "ppo")
    if engineered:  # models saved when the sb3 adapter was one module name it; they still load
        data = _data(tmp_path / "model.zip")
        assert data["policy_class"]["__module__"] == "rl_environments.ticket_routing.sb3.policy"
        data["policy_class"]["__module__"] = "rl_environments.ticket_routing.sb3"
        extractor = data["policy_kwargs"].get("features_extractor_class")
        assert extractor is None or "sb3.policy.AgentSetExtractor" in extractor
        data["policy_kwargs"]["features_extractor_class"] = (
            "<class 'rl_environments.ticket_routing.sb3.AgentSetExtractor'>"
        )
        legacy = load_model(_with_data(tmp_path / "model.zip", tmp_path / "legacy.zip", data))
        assert type(legacy.policy) is type(ours.policy)
        assert isinstance(legacy.policy.features_extractor, AgentSetExtractor)
        for a, b in zip(legacy.policy.state_dict().values(), ours.policy.state_dict().values(), strict=True):
            assert torch.equal(a, b)


def _flag_first(path: Path, dst: Path, offset_local: int, offset_central: int, value: bytes) -> Path:
    """Patch the general-purpose flag (offset 6/8) or the compression method (offset 8/10) of every
    member's local and central header."""
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            raw[start + offset : start + offset + 2] = value
            start += 4
    dst.write_bytes(bytes(raw))
    return dst


def test_broken_model_files_get_a_named_error(saved_ppo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sb3_contrib  # noqa: F401  (already imported: the loader needs nothing else)

    from rl_environments.ticket_routing.sb3 import loading

    cases: dict[str, tuple[Path, str]] = {
        "directory": (tmp_path, "is a directory"),
        "encrypted": (_flag_first(saved_ppo, tmp_path / "enc.zip", 6, 8, b"\x01\x00"), "encrypted"),
        "deflate64": (
            _flag_first(saved_ppo, tmp_path / "d64.zip", 8, 10, b"\x09\x00"),
            "compression method that cannot be read",
        ),
        "truncated": (tmp_path / "cut.zip", "not a Stable-Baselines3 model file"),
        "bad crc": (tmp_path / "crc.zip", "is corrupt"),
        "data not an object": (_rewrite(saved_ppo, tmp_path / "list.zip", data=b"[1, 2]"), "data is list"),
        "data not json": (_rewrite(saved_ppo, tmp_path / "nojson.zip", data=b"\x80\x03}q\x00."), "not UTF-8"),
        "corrupt weights": (
            _rewrite(saved_ppo, tmp_path / "w.zip", **{"policy.pth": b"garbage" * 100}),
            "policy.pth: not readable as plain weights",
        ),
        "weights of another net": (
            _rewrite(saved_ppo, tmp_path / "other.zip", **{"policy.pth": _tensor_bytes({"x": torch.zeros(3)})}),
            "does not fit the policy described in data",
        ),
        "no weights": (tmp_path / "noweights.zip", "no 'policy.pth' member"),
    }
    raw = saved_ppo.read_bytes()
    (tmp_path / "cut.zip").write_bytes(raw[: len(raw) // 3])
    with zipfile.ZipFile(saved_ppo) as old, zipfile.ZipFile(tmp_path / "noweights.zip", "w") as new:
        for info in old.infolist():
            if info.filename != "policy.pth":
                new.writestr(info, old.read(info))
    crc = bytearray(raw)
    with zipfile.ZipFile(saved_ppo) as archive:
        info = archive.getinfo("data")
    start = info.header_offset + 30 + len(info.filename) + 5  # inside the stored data bytes
    crc[start] ^= 0x20
    (tmp_path / "crc.zip").write_bytes(bytes(crc))
    for label, (path, message) in cases.items():
        with pytest.raises(ModelFileError, match=re.escape(message)):
            SB3Policy(path)
        assert label
    data = _data(saved_ppo)
    for field, change, message in (
        ("policy_kwargs", {"net_arch": [64], "squash_output": True}, "data.policy_kwargs.squash_output: not supported"),
        ("policy_kwargs", {"net_arch": [10**6]}, "data.policy_kwargs.net_arch: expected up to 16 layer widths"),
        ("policy_kwargs", {"net_arch": {"pi": [8], "qf": [8]}}, "data.policy_kwargs.net_arch: unknown key"),
        ("policy_kwargs", {"activation_fn": "<class 'os.system'>"}, "data.policy_kwargs.activation_fn"),
        ("policy_kwargs", {"features_extractor_class": "<class 'evil.X'>"}, "not a known features extractor"),
        ("policy_kwargs", {"features_extractor_kwargs": {"embed_dim": 10**6}}, "embed_dim / hidden"),
        ("policy_kwargs", {"ortho_init": "yes"}, "data.policy_kwargs.ortho_init: expected true or false"),
        ("policy_kwargs", [1], "data.policy_kwargs: expected an object"),
        ("action_space", {"n": "0"}, "data.action_space: expected Discrete(n)"),
        ("action_space", {"n": "x"}, "data.action_space: expected Discrete(n)"),
        ("observation_space", {"spaces": "{'a': Box([0. 1.], [1. 2.], (2,), float32)}"}, "observation_space: 'a'"),
        ("observation_space", {"spaces": "{'a': Discrete(5, start=1)}"}, "can be rebuilt without unpickling"),
        ("observation_space", {"spaces": "{'a': Box(0.0, 1.0, (2,), int8)}"}, "'a': dtype int8"),
        ("observation_space", {"spaces": None}, "no readable 'spaces'"),
        ("observation_space", {"spaces": "{'time_step': Discrete(100000000)}"}, "far larger network"),
    ):
        changed = {**data, field: change}
        with pytest.raises(ModelFileError, match=re.escape(message)):
            load_model(_with_data(saved_ppo, tmp_path / "changed.zip", changed))
    del data["action_space"]
    with pytest.raises(ModelFileError, match="data has no 'action_space'"):
        load_model(_with_data(saved_ppo, tmp_path / "changed.zip", data))
    with pytest.raises(ModelFileError, match=r"holds a ppo policy \(MultiInputActorCriticPolicy\), not maskable_ppo"):
        load_model(saved_ppo, "maskable_ppo")
    monkeypatch.setattr(loading, "MAX_DATA_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"member 'data' is [\d,]+ bytes; the limit is 100"):
        detect_algorithm(saved_ppo)
    monkeypatch.undo()
    monkeypatch.setattr(loading, "MAX_WEIGHTS_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"member 'policy.pth' is [\d,]+ bytes; the limit is 100"):
        SB3Policy(saved_ppo)
    with pytest.raises(ModelFileError, match=r"not readable observation statistics \(.*the limit is 100"):
        ObservationNormalizer(saved_ppo.parent / NORMALIZATION_FILE)
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / NORMALIZATION_FILE).write_bytes(b"not an npz")
    with pytest.raises(ModelFileError, match="not readable observation statistics"):
        ObservationNormalizer(tmp_path / "stats" / NORMALIZATION_FILE)


def _tensor_bytes(state: dict[str, torch.Tensor]) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


NESTED = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
FIELDS = st.sampled_from(["policy_class", "observation_space", "action_space", "policy_kwargs", "lr_schedule"])


@settings(max_examples=40, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=FIELDS,
    value=NESTED,
    keep_type=st.booleans(),
    raw=st.binary(max_size=512),
    where=st.sampled_from(["data", "policy.pth", "zip"]),
)
def test_random_model_files_give_a_named_error_or_a_model(
    saved_ppo: Path,
    tmp_path_factory: pytest.TempPathFactory,
    field: str,
    value: Any,
    keep_type: bool,
    raw: bytes,
    where: str,
) -> None:
    """Random fields in ``data``, random weights or random bytes: a ModelFileError or a working model,
    within a time bound and a small memory bound."""
    import json
    import time
    import tracemalloc

    folder = tmp_path_factory.mktemp("fuzz")
    data = _data(saved_ppo)
    if keep_type and isinstance(value, dict) and isinstance(data[field], dict):
        value = {**{k: v for k, v in data[field].items() if k.startswith(":")}, **value}
    data[field] = value
    if where == "data":
        path = _rewrite(saved_ppo, folder / "m.zip", data=json.dumps(data).encode())
    elif where == "policy.pth":
        path = _rewrite(saved_ppo, folder / "m.zip", **{"policy.pth": raw})
    else:
        path = folder / "m.zip"
        path.write_bytes(raw)
    tracemalloc.start()
    start = time.perf_counter()
    message = ""
    try:
        model = load_model(path)
        assert isinstance(model.action_space, gym_spaces.Discrete)
    except ModelFileError as exc:
        message = str(exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    assert len(message) < 1000
    assert time.perf_counter() - start < 3.0
    assert peak < 64.0


# --------------------------------------------------------------------- the rule's expected delay and prior
def test_expected_delay_feature_is_the_shift_sed_estimate() -> None:
    from rl_environments.ticket_routing.policies import ShiftSedPolicy
    from rl_environments.ticket_routing.sb3 import DELAY_KEY

    venv = TicketRoutingSB3VecEnv(3, SHORT, engineered=True, expected_delay=True)
    obs = venv.reset()
    assert venv.observation_space.contains({key: value[0] for key, value in obs.items()})
    raw = venv.venv._observation()
    hours = ShiftSedPolicy(SHORT).expected_hours(raw)
    np.testing.assert_allclose(obs[DELAY_KEY], np.log1p(hours).astype(np.float32), rtol=1e-6)
    assert DELAY_KEY not in normalized_keys(venv.observation_space)
    with pytest.raises(ValueError, match="engineered"):
        TicketRoutingSB3VecEnv(1, SHORT, expected_delay=True)


def test_rule_prior_starts_the_agent_score_policy_at_the_rule(tmp_path: Path) -> None:
    """Untrained, the agent-score policy with the delay prior routes like shift_sed: the valid agent
    with the smallest expected delay (the network's own scores start near zero)."""
    from rl_environments.ticket_routing.sb3 import DELAY_KEY

    venv = TicketRoutingSB3VecEnv(8, SHORT.replace(episode_length=50), engineered=True, expected_delay=True)
    model = MaskablePPO(MaskableAgentScorePolicy, venv, seed=0, device="cpu", n_steps=16, batch_size=32)
    obs = venv.reset()
    agree = total = 0
    for _ in range(20):
        masks = venv.action_masks()
        actions, _ = model.predict(obs, deterministic=True, action_masks=masks)
        delay = np.where(masks, obs[DELAY_KEY], np.inf)
        agree += int(np.sum(delay[np.arange(8), actions] <= delay.min(axis=1) + 1e-6))
        total += 8
        obs, _, _, _ = venv.step(actions)
    assert agree / total > 0.9
    model.save(tmp_path / "model.zip")
    policy = load_policy(tmp_path / "model.zip", SHORT.replace(episode_length=50))
    assert policy.reads_delay
    with pytest.raises(ValueError, match="pass config="):
        SB3Policy(tmp_path / "model.zip").act_batch(*_first_batch())


def _first_batch() -> tuple[dict[str, np.ndarray], np.ndarray]:
    env = TicketRoutingVectorEnv(1, SHORT.replace(episode_length=50))
    obs, info = env.reset(seed=0)
    return obs, info["action_mask"]


def test_a_large_team_agent_score_model_loads(tmp_path: Path) -> None:
    """The network-size check must not refuse genuine models: 200 agents, where the agent-score
    head keeps 17 parameters but building the policy briefly holds a full action layer."""
    config = EnvironmentConfig(num_agents=200, episode_length=20)
    venv = TicketRoutingSB3VecEnv(1, config, engineered=True)
    model = MaskablePPO(MaskableAgentScorePolicy, venv, n_steps=8, batch_size=8, seed=0, device="cpu")
    model.save(tmp_path / "big.zip")
    loaded = load_model(tmp_path / "big.zip")
    obs = venv.reset()
    masks = venv.action_masks()
    np.testing.assert_array_equal(
        loaded.predict(obs, deterministic=True, action_masks=masks)[0],  # type: ignore[call-arg]
        model.predict(obs, deterministic=True, action_masks=masks)[0],
    )
