"""Golden trajectories: every preset, both observation layouts, the single and the vector env.

Each case hashes a full seeded trajectory (observations, rewards, reward components, clock,
episode ends and the KPIs of every finished episode). The digests were recorded before the
kernel's data was given names; a refactoring that changes any of them changed behaviour.
The interpreted pass of ``make test`` (``NUMBA_DISABLE_JIT=1``) checks the same digests.
Regenerate only for an intended change of behaviour: ``python tests/test_golden_trajectories.py``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pytest

from rl_environments.ticket_routing import ArrivalTrace, EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv

PRESETS = ("default", "easy", "balanced", "hard", "service_desk", "hard+resolution_sla", "trace", "trace_loop")
LAYOUTS = ("flat", "nested")
STEPS = 400
EPISODE = 150

GOLDEN: dict[str, str] = {
    "single/default/flat": "c9141f74edd29e1d5954bf229962eae576cd970903380bc080c7ae6fe0cbfdd3",
    "single/default/nested": "57d6af0434b9a82482a27815e53fb692d5bfd910b8b1619ef40da4c58136fe7d",
    "single/easy/flat": "812e41ff5605280aabad8312888ce1cb334180b99fb958b4d84e559b391e4781",
    "single/easy/nested": "67a3e5b005232e74f776d67a1ffb5e10b5cb4006d9f851f604656b3ddb6fa239",
    "single/balanced/flat": "c9141f74edd29e1d5954bf229962eae576cd970903380bc080c7ae6fe0cbfdd3",
    "single/balanced/nested": "57d6af0434b9a82482a27815e53fb692d5bfd910b8b1619ef40da4c58136fe7d",
    "single/hard/flat": "e56f5e4564c33efcdb184fc64d6a1b86d876d3db09565efac932d1586c77eb3e",
    "single/hard/nested": "530d6dbfe6e18ea026ab1a95be4d5d62eb0d9b9ec47276c6c6a726608fdb19e8",
    "single/service_desk/flat": "cd65a18541795a0f5a8c08cd2f7a8d3bb78819c51acdccc1e47b9ed275da04fd",
    "single/service_desk/nested": "1ce4bb8bc1ed3aabef0db39ae21085d73e68a2a3f1f659fc9344e94bc1ca684f",
    "single/hard+resolution_sla/flat": "c12cbe16805d825042044bf18debc25d6667c11c54546baf4b6ca68a11aaaa6d",
    "single/hard+resolution_sla/nested": "35a5b551427da902b57fadb37d90fd38dfd12ac72729099c11b2cbb9aceea650",
    "single/trace/flat": "6d6e6a3fb1f9910b502269fc56e7a1fab3b06cca30d184a698ac177cc98f08ba",
    "single/trace/nested": "85579e2f6b341195994d30cb937f4afb07b0e80b7d742f68c52e57e6399a6230",
    "single/trace_loop/flat": "25e278baf7822ec7ee6937454283d8dcfbf059b4a60c08c061e60b6cb23ae23b",
    "single/trace_loop/nested": "09f0d24fcae2d4fe3a0c8353aca79689979299150b186249079916b98dd9d633",
    "vector/default/flat": "8450226260e2c69855268ce03d097e9305a854e4b826a4bfc92b8a8171bc6254",
    "vector/default/nested": "ca138dee336cd2498e2b5a5902b04a4e76c0a4f3b26aa29dce72d41c3a33d854",
    "vector/easy/flat": "27af6d0b04e8a39f36bc0b29a902eb78b234d898d13f2ba4715e957693ddc884",
    "vector/easy/nested": "5862e1b112189d2d8ae1198f49cd441c1a6e0417b717cd31e2dcdd1ef9550c17",
    "vector/balanced/flat": "8450226260e2c69855268ce03d097e9305a854e4b826a4bfc92b8a8171bc6254",
    "vector/balanced/nested": "ca138dee336cd2498e2b5a5902b04a4e76c0a4f3b26aa29dce72d41c3a33d854",
    "vector/hard/flat": "cb6c21c26771fd12400f1b41a2ee9812829538fc668cf5aa8aa9bc425753c73b",
    "vector/hard/nested": "ee1061d8cf99dfd38b34543605f329121d9568816b13cbdd41b0f17e1f09f4c0",
    "vector/service_desk/flat": "ae533518119525e6e120ba86da22eb6e1b8fca622e3a6f8a8899456fc1ac28d1",
    "vector/service_desk/nested": "7413ce00b348f195a4708fe1eb81e8eef6f2bd8dded66da2bf3823c66b1c4cd8",
    "vector/hard+resolution_sla/flat": "38b7bac8f9f01e08ebb54b0ee0feef4320f79023a1e728af894cff3a9ca7b96a",
    "vector/hard+resolution_sla/nested": "f9c9e6ebbcc0271efac8164b23cdc5986ff8051826cf2e26e096b91778e18427",
    "vector/trace/flat": "16713858012848396c54bfab085560815c10af32850f5b0ebf654f3e94c9d1a3",
    "vector/trace/nested": "9e352a5b64fa53b2ee6933759f2553da5e3daaa39af2e2848d9c0e5b2813a7cf",
    "vector/trace_loop/flat": "1291844f0d049e08055c5207b363bb774d12336408b2375401d6a6c1be682b65",
    "vector/trace_loop/nested": "e73d4f9962f150762c6c9ecef4a965be955c2a2e94b8722452de5a0ef34a055d",
}


def _config(preset: str) -> EnvironmentConfig:
    if preset == "default" or preset.startswith("trace"):
        return EnvironmentConfig()
    return EnvironmentConfig.named(preset)


def _trace(preset: str) -> ArrivalTrace | None:
    """A replayed stream of 100 tickets over 16 hours (finite, or looping every 20 hours)."""
    if not preset.startswith("trace"):
        return None
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0.0, 16.0, 100))
    types, priorities = rng.integers(0, 5, 100), rng.integers(0, 4, 100)
    return ArrivalTrace(times, types, priorities, loop=preset == "trace_loop", period_hours=20.0)


def _plain(value: Any) -> Any:
    """A JSON-able copy in which every float keeps all its bits (``repr`` round-trips)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float):
        return repr(value)
    return value


def _update(h: Any, value: Any) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            h.update(key.encode())
            _update(h, value[key])
    else:
        arr = np.asarray(value)
        h.update(arr.dtype.str.encode() + str(arr.shape).encode() + arr.tobytes())


def _choose(rng: np.random.Generator, mask: np.ndarray) -> int:
    """Mostly a valid agent at random, sometimes any agent (invalid actions are part of the path)."""
    if rng.random() < 0.25 or not mask.any():
        return int(rng.integers(mask.shape[0]))
    return int(rng.choice(np.flatnonzero(mask)))


def single_digest(preset: str, layout: str) -> str:
    env = TicketRoutingEnv(_config(preset), observation_layout=layout, max_episode_steps=EPISODE, trace=_trace(preset))
    rng = np.random.default_rng(7)
    h = hashlib.sha256()
    obs, info = env.reset(seed=11)
    _update(h, obs)
    for _ in range(STEPS):
        obs, reward, terminated, truncated, info = env.step(_choose(rng, info["action_mask"]))
        _update(h, obs)
        _update(h, {"r": np.float64(reward), "c": info["reward_components"], "t": info["clock_hours"]})
        _update(h, {"te": terminated, "tr": truncated, "k": info["kpis"]})
        if terminated or truncated:
            h.update(json.dumps(_plain(env.kpis()), sort_keys=True).encode())
            obs, info = env.reset()
            _update(h, obs)
    h.update(json.dumps(_plain(env.kpis()), sort_keys=True).encode())
    return h.hexdigest()


def vector_digest(preset: str, layout: str) -> str:
    env = TicketRoutingVectorEnv(
        3, _config(preset), observation_layout=layout, max_episode_steps=EPISODE, trace=_trace(preset)
    )
    rng = np.random.default_rng(7)
    h = hashlib.sha256()
    obs, info = env.reset(seed=11)
    _update(h, obs)
    for _ in range(STEPS):
        actions = np.array([_choose(rng, m) for m in info["action_mask"]], dtype=np.int64)
        obs, reward, terminated, truncated, info = env.step(actions)
        _update(h, obs)
        _update(h, {"r": reward, "c": info["reward_components"], "t": info["clock_hours"]})
        _update(h, {"te": terminated, "tr": truncated})
        if "episode_kpis" in info:
            h.update(json.dumps(_plain(info["episode_kpis"]), sort_keys=True).encode())
    for i in range(env.num_envs):
        h.update(json.dumps(_plain(env.kpis(i)), sort_keys=True).encode())
    env.close()
    return h.hexdigest()


CASES = [(kind, preset, layout) for kind in ("single", "vector") for preset in PRESETS for layout in LAYOUTS]


def digest(kind: str, preset: str, layout: str) -> str:
    return (single_digest if kind == "single" else vector_digest)(preset, layout)


@pytest.mark.parametrize(("kind", "preset", "layout"), CASES)
def test_trajectory_matches_the_golden_digest(kind: str, preset: str, layout: str) -> None:
    assert digest(kind, preset, layout) == GOLDEN[f"{kind}/{preset}/{layout}"]


if __name__ == "__main__":
    print("GOLDEN: dict[str, str] = {")
    for case in CASES:
        print(f'    "{"/".join(case)}": "{digest(*case)}",')
    print("}")
