"""Plain Gymnasium wrappers that fit ``TicketRouting-v0`` to any RL library.

* :class:`CompactObservation`: one bounded ``float32`` ``Box`` in [0, 1] instead of the ``Dict``
  (what ``NormalizeObservation``, TorchRL, Tianshou, skrl and most MLP policies want);
* :class:`CompactVectorObservation`: the same for the native vector env (or any vector env of
  ``TicketRouting-v0``), batched;
* :class:`MaskInObservation`: ``{"observations": obs, "action_mask": mask}``, the layout RLlib,
  PettingZoo and TorchRL read the action mask from (key names configurable, e.g. Tianshou's
  ``obs`` / ``mask``).

Both keep ``action_masks()`` (sb3-contrib's convention) callable on the wrapper.

>>> import gymnasium as gym
>>> from rl_environments.ticket_routing.wrappers import CompactObservation, MaskInObservation
>>> env = MaskInObservation(CompactObservation(gym.make("TicketRouting-v0", num_agents=4)))
>>> obs, info = env.reset(seed=0)
>>> obs["observations"].shape, obs["observations"].dtype, obs["action_mask"].dtype
((58,), dtype('float32'), dtype('bool'))
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES, EnvironmentConfig
from rl_environments.ticket_routing.core.params import remaining_work_cap
from rl_environments.ticket_routing.core.state import NP, NT
from rl_environments.ticket_routing.core.typing import BoolArray, Float32Array


def ticket_expertise(ticket_type: Any, agent_expertise: Any) -> Float32Array:
    """Each agent's expertise for the type of the ticket to route.

    ``ticket_type`` has shape ``batch`` (``()`` for one observation) and ``agent_expertise``
    ``(*batch, num_agents * 5)``, row-major by agent; the result is ``(*batch, num_agents)``.
    """
    types = np.asarray(ticket_type, dtype=np.int64)
    expertise = np.asarray(agent_expertise, dtype=np.float32)
    matrix = expertise.reshape(*expertise.shape[:-1], -1, NT)
    column: Float32Array = np.take_along_axis(matrix, types[..., None, None], axis=-1)[..., 0]
    return column


def compact_feature_names(num_agents: int, include_expertise: bool = True) -> list[str]:
    """Names of the entries of :func:`compact_features`, in order."""
    names = [f"ticket_type={t}" for t in TICKET_TYPES] + [f"ticket_priority={p}" for p in PRIORITIES]
    names += ["ticket_age", "queue_size", "time_step", "hour_of_week_sin", "hour_of_week_cos"]
    for what in ("ticket_expertise", "workload", "available", "next_change_hours", "change_goes_offline"):
        names += [f"{what}[{a}]" for a in range(num_agents)]
    names += [f"remaining_work[{a}]" for a in range(num_agents)]
    if include_expertise:
        names += [f"expertise[{a}][{t}]" for a in range(num_agents) for t in TICKET_TYPES]
    return names


def compact_features(obs: dict[str, Any], config: EnvironmentConfig, include_expertise: bool = True) -> Float32Array:
    """A flat observation (one or a batch) as a ``float32`` vector in [0, 1].

    In order (see :func:`compact_feature_names`): the ticket's type and priority one-hot, its age
    over ``max_ticket_age_hours``, the queue size over ``max_queue_size``, the step over
    ``episode_length``, the hour of the week's sine and cosine mapped to [0, 1], then per agent its
    expertise for this ticket's type, its workload over ``max_workload``, its availability (0.0 or
    1.0), the hours to its next shift change over 168, whether that change takes it offline (0.0
    or 1.0) and its remaining work over the observation's bound, then (``include_expertise``) the
    whole expertise matrix, row-major by agent.
    """
    types = np.asarray(obs["ticket_type"], dtype=np.int64)
    batch = types.shape
    priorities = np.asarray(obs["ticket_priority"], dtype=np.int64)

    def scaled(key: str, scale: float) -> Float32Array:
        value = np.asarray(obs[key], dtype=np.float32).reshape(*batch, -1)
        out: Float32Array = np.clip(value / np.float32(scale), 0.0, 1.0)
        return out

    def flags(key: str) -> Float32Array:
        out: Float32Array = np.asarray(obs[key], dtype=np.float32).reshape(*batch, -1)
        return out

    hour = np.asarray(obs["hour_of_week"], dtype=np.float32).reshape(*batch, -1)
    parts = [
        np.eye(NT, dtype=np.float32)[types],
        np.eye(NP, dtype=np.float32)[priorities],
        scaled("ticket_age", config.max_ticket_age_hours),
        scaled("queue_size", config.max_queue_size),
        scaled("time_step", config.episode_length),
        np.clip((hour + np.float32(1.0)) / np.float32(2.0), 0.0, 1.0),
        ticket_expertise(types, obs["agent_expertise"]),
        scaled("agent_workload", config.max_workload),
        flags("agent_availability"),
        scaled("agent_next_change_hours", 168.0),
        flags("agent_change_goes_offline"),
        scaled("agent_remaining_work", remaining_work_cap(config)),
    ]
    if include_expertise:
        parts.append(np.asarray(obs["agent_expertise"], dtype=np.float32).reshape(*batch, -1))
    features: Float32Array = np.concatenate(parts, axis=-1)
    return features


def _base_config(env: gym.Env[Any, Any]) -> EnvironmentConfig:
    config = getattr(env.unwrapped, "config", None)
    if not isinstance(config, EnvironmentConfig):
        raise ValueError(f"env: invalid value {env!r}; expected a TicketRouting-v0 environment (possibly wrapped)")
    return config


class CompactObservation(gym.ObservationWrapper[Float32Array, Any, dict[str, Any]], gym.utils.RecordConstructorArgs):
    """The flat ``Dict`` observation as one ``Box(0, 1, (n,), float32)`` (see :func:`compact_features`).

    No one-hot counters (1,501 of FlattenObservation's 1,854 values are the one-hot ``time_step``
    on the default scenario), availability and shift flags as floats, the current ticket's
    expertise column up front. ``include_expertise=False`` drops the full matrix (``5 * num_agents`` values).
    ``feature_names`` names every entry.
    """

    def __init__(self, env: gym.Env[dict[str, Any], Any], include_expertise: bool = True) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, include_expertise=include_expertise)
        gym.ObservationWrapper.__init__(self, env)
        self.config = _base_config(env)
        if getattr(env.unwrapped, "observation_layout", "flat") != "flat":
            raise ValueError("env: CompactObservation needs observation_layout='flat'")
        self.include_expertise = include_expertise
        self.feature_names = compact_feature_names(self.config.num_agents, include_expertise)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(len(self.feature_names),), dtype=np.float32)

    def observation(self, observation: dict[str, Any]) -> Float32Array:
        return compact_features(observation, self.config, self.include_expertise)

    def action_masks(self) -> BoolArray:
        """The wrapped env's action mask."""
        mask: BoolArray = self.env.get_wrapper_attr("action_masks")()
        return mask


class CompactVectorObservation(gym.vector.VectorWrapper, gym.utils.RecordConstructorArgs):
    """:class:`CompactObservation` for a vector env: ``(num_envs, n)`` ``float32`` in [0, 1].

    Works in every autoreset mode; with ``same_step`` the final observations in
    ``info["final_obs"]`` are compacted too.
    """

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any], include_expertise: bool = True) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, include_expertise=include_expertise)
        gym.vector.VectorWrapper.__init__(self, env)
        config = getattr(env.unwrapped, "config", None)
        if not isinstance(config, EnvironmentConfig) or getattr(env.unwrapped, "observation_layout", "") != "flat":
            raise ValueError(f"env: invalid value {env!r}; expected a TicketRoutingVectorEnv with the flat layout")
        self.config = config
        self.include_expertise = include_expertise
        self.feature_names = compact_feature_names(config.num_agents, include_expertise)
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(len(self.feature_names),), dtype=np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, env.num_envs)

    def _compact(self, obs: Any) -> Float32Array:
        return compact_features(obs, self.config, self.include_expertise)

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return self._compact(obs), info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(actions)
        if "final_obs" in info:
            final = np.full(len(info["final_obs"]), None, dtype=object)
            for i, last in enumerate(info["final_obs"]):
                if last is not None:
                    final[i] = self._compact(last)
            info = {**info, "final_obs": final}
        return self._compact(obs), reward, terminated, truncated, info

    def action_masks(self) -> BoolArray:
        """``(num_envs, num_agents)``: the wrapped vector env's action masks."""
        masks: BoolArray = self.env.unwrapped.action_masks()
        return masks


class MaskInObservation(gym.ObservationWrapper[dict[str, Any], Any, Any], gym.utils.RecordConstructorArgs):
    """``{obs_key: observation, mask_key: action_mask}`` with the mask as a ``bool`` ``Box``.

    The defaults (``observations`` / ``action_mask``) are RLlib's and TorchRL's names; Tianshou
    reads ``obs`` / ``mask``.
    """

    def __init__(self, env: gym.Env[Any, Any], obs_key: str = "observations", mask_key: str = "action_mask") -> None:
        gym.utils.RecordConstructorArgs.__init__(self, obs_key=obs_key, mask_key=mask_key)
        gym.ObservationWrapper.__init__(self, env)
        if obs_key == mask_key:
            raise ValueError(f"mask_key: invalid value {mask_key!r}; must differ from obs_key")
        num_agents = _base_config(env).num_agents
        self.obs_key, self.mask_key = obs_key, mask_key
        self.observation_space = spaces.Dict(
            {obs_key: env.observation_space, mask_key: spaces.Box(0, 1, shape=(num_agents,), dtype=np.bool_)}  # type: ignore[arg-type]
        )

    def observation(self, observation: Any) -> dict[str, Any]:
        return {self.obs_key: observation, self.mask_key: self.action_masks()}

    def action_masks(self) -> BoolArray:
        """The wrapped env's action mask."""
        mask: BoolArray = self.env.get_wrapper_attr("action_masks")()
        return mask
