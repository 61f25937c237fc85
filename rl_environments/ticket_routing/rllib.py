"""Ray RLlib support: ``TicketRouting-v0`` registered in Ray's registry, ``env_config`` -> ``EnvironmentConfig``.

Needs the ``rllib`` extra; the core package never imports this module.

RLlib's default models take a flat ``Box``, so the env is wrapped: the flat ``Dict`` observation
is flattened (discrete fields one-hot, as ``gymnasium.spaces.flatten`` does). With
``env_config["action_masking"] = True`` the observation becomes ``{"action_mask", "observations"}``,
the layout of RLlib's action-masking RLModule example.

``env_config`` keys: ``config`` (a preset name or YAML path; default: the default scenario),
``action_masking`` (bool), and any :class:`EnvironmentConfig` field or section mapping as an
override, e.g. ``{"config": "hard", "num_agents": 8, "arrivals": {"rate_per_day": 80}}``; or
``task`` (a scored task id such as ``"TicketRouting-Balanced-v0"``, which fixes the scenario,
objective and episode length, so it takes no other configuration key). Unknown keys raise
``ValueError`` naming the field.

:class:`RLModulePolicy` wraps a trained RLModule (in the same process: no checkpoint is loaded)
as a :class:`~rl_environments.ticket_routing.policies.Policy`, so the evaluation harness and
``tasks.score`` can run it like any baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_environments.ticket_routing.core.config import EnvironmentConfig, resolve_config
from rl_environments.ticket_routing.core.environment import TicketRoutingEnv
from rl_environments.ticket_routing.core.observation import observation_space_for
from rl_environments.ticket_routing.core.typing import AnyArray

if TYPE_CHECKING:
    from numpy.typing import NDArray

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
    task_id = options.pop("task", None)
    action_masking = options.pop("action_masking", False)
    if not isinstance(action_masking, bool):
        raise ValueError(f"action_masking: invalid value {action_masking!r}; expected true or false")
    if task_id is not None:
        from rl_environments.ticket_routing.tasks import get_task

        task = get_task(str(task_id))
        if options:
            key = next(iter(options))
            raise ValueError(
                f"{key}: {task.id} fixes the scenario, objective and episode length, so env_config cannot "
                f"also set {key!r}; use 'config' and overrides instead of 'task' for a variant"
            )
        return FlatTicketRoutingEnv(task.make_env(), action_masking=action_masking)
    config = options.pop("config", None)
    return FlatTicketRoutingEnv(TicketRoutingEnv(resolve_config(config, **options)), action_masking=action_masking)


def register(name: str = ENV_NAME) -> str:
    """Register :func:`env_creator` under ``name`` in Ray's registry (call before building the algorithm)."""
    from ray.tune.registry import register_env

    register_env(name, env_creator)
    return name


def flatten_batch(space: spaces.Dict, obs: Mapping[str, Any]) -> NDArray[np.float32]:
    """Flatten a batch of flat-layout observations (leading axis = environment) as
    :class:`FlatTicketRoutingEnv` flattens one: ``gymnasium.spaces.flatten`` row by row, vectorised
    (``Discrete`` fields one-hot, the rest in order)."""
    parts: list[AnyArray] = []
    rows: int | None = None
    for key, sub in space.spaces.items():
        if key not in obs:
            raise ValueError(f"obs: missing key {key!r}; expected the keys {', '.join(space.spaces)}")
        value = np.asarray(obs[key])
        n = value.shape[0] if value.ndim else 1
        if rows is None:
            rows = n
        elif n != rows:
            raise ValueError(f"obs: {key!r} has {n} rows, expected {rows}")
        if isinstance(sub, spaces.Discrete):
            index = value.reshape(rows).astype(np.int64) - int(sub.start)
            onehot = np.zeros((rows, int(sub.n)), dtype=np.float32)
            onehot[np.arange(rows), index] = 1.0
            parts.append(onehot)
        elif isinstance(sub, (spaces.Box, spaces.MultiBinary)):
            parts.append(value.reshape(rows, -1).astype(np.float32))
        else:  # pragma: no cover - the flat layout has only these spaces
            raise ValueError(f"obs: cannot flatten {key!r} of space {sub}")
    out: NDArray[np.float32] = np.concatenate(parts, axis=1)
    return out


class RLModulePolicy:
    """A trained RLlib RLModule as a routing :class:`~rl_environments.ticket_routing.policies.Policy`.

    Observations are flattened exactly as :class:`FlatTicketRoutingEnv` does; the action is the
    greedy one (the argmax of the module's action logits from ``forward_inference``). With
    ``action_masking=True`` the module is the action-masking RLModule trained on
    ``{"action_mask", "observations"}``: it gets the mask too, and only agents that can take the
    ticket are chosen (when none can, the environment's invalid-action rule applies). Needs torch.
    """

    def __init__(
        self, module: Any, config: EnvironmentConfig, *, action_masking: bool = False, name: str = "rllib_ppo"
    ) -> None:
        if not callable(getattr(module, "forward_inference", None)):
            raise ValueError(f"module: invalid value {module!r}; expected an RLlib RLModule (forward_inference)")
        self.module = module
        self.config = config
        self.space = observation_space_for(config)
        self.action_masking = action_masking
        self.name = name

    def reset(self, seed: int | None = None) -> None:
        """Greedy and stateless: nothing to forget."""

    def logits(self, obs: Mapping[str, Any], masks: NDArray[np.bool_]) -> NDArray[np.float32]:
        """The module's action logits for a batch, shape ``(N, num_agents)``."""
        import torch
        from ray.rllib.core.columns import Columns

        flat = torch.from_numpy(flatten_batch(self.space, obs))
        m = np.asarray(masks, dtype=np.bool_)
        if m.ndim != 2 or m.shape != (flat.shape[0], self.config.num_agents):
            raise ValueError(f"masks: expected shape ({flat.shape[0]}, {self.config.num_agents}), got {m.shape}")
        model_obs: Any = (
            {"action_mask": torch.from_numpy(m.astype(np.float32)), "observations": flat}
            if self.action_masking
            else flat
        )
        with torch.no_grad():
            out = self.module.forward_inference({Columns.OBS: model_obs})
        logits: NDArray[np.float32] = out[Columns.ACTION_DIST_INPUTS].cpu().numpy().astype(np.float32)
        return logits

    def act_batch(self, obs: Mapping[str, Any], masks: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Greedy agents for a batch of observations (leading axis = environment)."""
        m = np.asarray(masks, dtype=np.bool_)
        logits = self.logits(obs, m).astype(np.float64)
        if self.action_masking:
            logits = np.where(m | ~m.any(axis=1, keepdims=True), logits, -np.inf)
        actions: NDArray[np.int64] = np.argmax(logits, axis=1).astype(np.int64)
        return actions

    def act(self, obs: Mapping[str, Any], mask: NDArray[np.bool_]) -> int:
        """The greedy agent for one observation."""
        batch = {key: np.asarray(value)[None, ...] for key, value in obs.items()}
        return int(self.act_batch(batch, np.asarray(mask, dtype=np.bool_)[None, :])[0])
