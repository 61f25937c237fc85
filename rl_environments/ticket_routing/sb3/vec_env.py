"""``TicketRoutingSB3VecEnv``: the native vector env seen through Stable-Baselines3's ``VecEnv`` API.

SB3 resets a finished sub-environment inside ``step`` (the returned observation starts the next
episode, the last one is in ``infos[i]["terminal_observation"]``); the native vector env resets on
the *next* step. The adapter bridges the two by resetting finished rows right away, so no step is
wasted and every decision SB3 takes is a real routing decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rl_environments.ticket_routing.core.config import ConfigLike, resolve_config
from rl_environments.ticket_routing.core.typing import BoolArray
from rl_environments.ticket_routing.core.vector_env import TicketRoutingVectorEnv
from rl_environments.ticket_routing.sb3.observations import (
    engineer_observation,
    engineered_space,
    expected_delay_model,
)


class TicketRoutingSB3VecEnv(VecEnv):
    """``TicketRoutingVectorEnv`` seen through Stable-Baselines3's ``VecEnv`` API.

    ``env_method("action_masks")`` returns one mask per sub-environment, so sb3-contrib's
    ``MaskablePPO`` (and its ``get_action_masks``) works directly. ``seed(s)`` seeds sub-environment
    ``i`` with ``s + i`` at the next ``reset()``, as SB3 does. Infos of finished episodes carry
    ``terminal_observation``, ``TimeLimit.truncated`` and ``episode_kpis`` (the environment's KPIs).
    With ``engineered=True`` observations are those of :func:`engineer_observation`.

    ``stagger=True`` truncates the first episode of sub-environment ``i`` after
    ``episode_length * (i + 1) / num_envs`` decisions (reported as a time-limit truncation), so
    the sub-environments then run out of phase. Otherwise they all start and end their episodes
    together, and each PPO rollout only sees one slice of the episode: correlated, non-stationary
    batches that destabilise training.
    """

    def __init__(
        self,
        num_envs: int = 8,
        config: ConfigLike = None,
        *,
        vector_env: TicketRoutingVectorEnv | None = None,
        engineered: bool = False,
        expected_delay: bool = False,
        stagger: bool = False,
        **overrides: Any,
    ) -> None:
        if vector_env is None:
            vector_env = TicketRoutingVectorEnv(num_envs, resolve_config(config, **overrides))
        elif config is not None or overrides:
            raise ValueError("config: pass either vector_env or a config, not both")
        if vector_env.observation_layout != "flat":
            raise ValueError(
                f"vector_env: observation_layout {vector_env.observation_layout!r} is not supported; SB3 needs 'flat'"
            )
        self.venv = vector_env
        self.config = vector_env.config
        self.engineered = engineered
        if expected_delay and not engineered:
            raise ValueError("expected_delay: needs engineered=True")
        self._delay = expected_delay_model(self.config) if expected_delay else None
        self.stagger = stagger
        n = vector_env.num_envs
        length = vector_env.config.episode_length
        self._first_cut = np.zeros(n, dtype=np.int64)  # decisions after which a first episode is cut (0: none)
        self._stagger_cuts = np.maximum(1, np.round(length * (np.arange(n) + 1) / n)).astype(np.int64)
        self._actions = np.zeros(vector_env.num_envs, dtype=np.int64)
        space = vector_env.single_observation_space
        if engineered and isinstance(space, spaces.Dict):
            space = engineered_space(space, delay=expected_delay)
        super().__init__(vector_env.num_envs, space, vector_env.single_action_space)

    def _obs(self, obs: dict[str, Any]) -> dict[str, Any]:
        return engineer_observation(obs, self._delay) if self.engineered else obs

    # ----------------------------------------------------------------- VecEnv API
    def reset(self) -> VecEnvObs:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, _ = self.venv.reset(seed=seeds)
        if self.stagger:
            self._first_cut[:] = self._stagger_cuts
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._obs(obs)

    def step_async(self, actions: np.ndarray) -> None:
        acts = np.asarray(actions).reshape(-1)
        if acts.shape != (self.num_envs,):
            raise ValueError(f"actions: expected {self.num_envs} agent indices, got shape {np.shape(actions)}")
        np.copyto(self._actions, acts, casting="unsafe")

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        if self._first_cut.any():
            cut = (self._first_cut > 0) & (np.asarray(obs["time_step"]) >= self._first_cut)
            truncated = truncated | (cut & ~terminated)
            self._first_cut[cut | terminated | truncated] = 0
        obs = self._obs(obs)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            kpis = info.get("episode_kpis", {})
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = {key: value[i] for key, value in obs.items()}
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                if kpis and kpis["_decisions"][i]:
                    infos[i]["episode_kpis"] = {key: value[i] for key, value in kpis.items() if not key.startswith("_")}
            # SB3 expects same-step auto-reset: start the next episodes now.
            obs = self._obs(self.venv.reset(options={"reset_mask": dones})[0])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def action_masks(self) -> BoolArray:
        """``(num_envs, num_agents)`` masks of the current tickets."""
        return self.venv.action_masks()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        rows = self._rows(indices)
        if attr_name == "render_mode":
            return [None for _ in rows]
        if attr_name == "action_masks":
            masks = self.venv.action_masks()
            return [_RowMask(masks, i) for i in rows]
        if attr_name in ("config", "observation_space", "action_space", "spec", "metadata"):
            value = self.config if attr_name == "config" else getattr(self.venv, _SINGLE.get(attr_name, attr_name))
            return [value for _ in rows]
        raise AttributeError(f"attr_name: {attr_name!r} is not available per sub-environment")

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"attr_name: {attr_name!r} cannot be set; the sub-environments share one simulation")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        rows = self._rows(indices)
        if method_name == "action_masks":
            masks = self.venv.action_masks()
            return [masks[i] for i in rows]
        if method_name == "kpis":
            return [self.venv.kpis(i) for i in rows]
        raise AttributeError(f"method_name: {method_name!r} is not supported (available: action_masks, kpis)")

    def env_is_wrapped(self, wrapper_class: type[Any], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._rows(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]

    def _rows(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)


_SINGLE = {"observation_space": "single_observation_space", "action_space": "single_action_space"}


class _RowMask:
    """``get_attr("action_masks")[i]()``: the mask of sub-environment ``i`` (for ``has_attr`` checks)."""

    def __init__(self, masks: BoolArray, row: int) -> None:
        self._masks, self._row = masks, row

    def __call__(self) -> BoolArray:
        row: BoolArray = self._masks[self._row]
        return row
