"""Ray RLlib support: ``TicketRouting-v0`` registered in Ray's registry, ``env_config`` -> ``EnvironmentConfig``.

Needs the ``rllib`` extra; the core package never imports this module.

RLlib's default models take a flat ``Box``, so the env is wrapped: the flat ``Dict`` observation
is flattened (discrete fields one-hot, as ``gymnasium.spaces.flatten`` does). With
``env_config["action_masking"] = True`` the observation becomes ``{"action_mask", "observations"}``,
the layout of RLlib's action-masking RLModule example.

``env_config`` keys: ``config`` (a preset name or YAML path; default: the default scenario),
``action_masking`` (bool), and any :class:`EnvironmentConfig` field or section mapping as an
override, e.g. ``{"config": "hard", "num_agents": 8, "arrivals": {"rate_per_day": 80}}``.
Unknown keys raise ``ValueError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_environments.ticket_routing.core.environment import TicketRoutingEnv, resolve_config
from rl_environments.ticket_routing.core.typing import AnyArray

ENV_NAME = "TicketRouting-v0"
"""The name under which :func:`register` makes the env known to Ray."""


class FlatTicketRoutingEnv(gym.ObservationWrapper[Any, np.int64, dict[str, Any]]):
    """``TicketRoutingEnv`` with a flat ``Box`` observation (or ``{"action_mask", "observations"}``)."""

    def __init__(self, env: TicketRoutingEnv, *, action_masking: bool = False) -> None:
        super().__init__(env)
        self.base_space = env.observation_space
        flat = spaces.flatten_space(self.base_space)
        if not isinstance(flat, spaces.Box):  # pragma: no cover - a Dict of Box/Discrete/MultiBinary is a Box
            raise ValueError(f"observation_space: cannot flatten {self.base_space}")
        self.flat_space = spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32), dtype=np.float32)
        self.action_masking = action_masking
        num_agents = env.config.num_agents
        self.observation_space: spaces.Space[Any] = (
            spaces.Dict(
                {
                    "action_mask": spaces.Box(0.0, 1.0, shape=(num_agents,), dtype=np.float32),
                    "observations": self.flat_space,
                }
            )
            if action_masking
            else self.flat_space
        )

    def observation(self, observation: dict[str, Any]) -> Any:
        flat: AnyArray = np.asarray(spaces.flatten(self.base_space, observation), dtype=np.float32)
        if not self.action_masking:
            return flat
        mask = self.env.unwrapped.action_masks()  # type: ignore[attr-defined]
        return {"action_mask": np.asarray(mask, dtype=np.float32), "observations": flat}


def env_creator(env_config: Mapping[str, Any] | None = None) -> FlatTicketRoutingEnv:
    """Build the wrapped env from RLlib's ``env_config`` (an ``EnvContext`` is a dict)."""
    options = dict(env_config or {})
    config = options.pop("config", None)
    action_masking = options.pop("action_masking", False)
    if not isinstance(action_masking, bool):
        raise ValueError(f"action_masking: invalid value {action_masking!r}; expected true or false")
    return FlatTicketRoutingEnv(TicketRoutingEnv(resolve_config(config, **options)), action_masking=action_masking)


def register(name: str = ENV_NAME) -> str:
    """Register :func:`env_creator` under ``name`` in Ray's registry (call before building the algorithm)."""
    from ray.tune.registry import register_env

    register_env(name, env_creator)
    return name
