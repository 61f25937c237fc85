"""``SB3Policy``: a trained PPO / MaskablePPO model behind the project's policy interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy

from rl_environments.ticket_routing.core.config import ConfigLike, resolve_config
from rl_environments.ticket_routing.core.observation import observation_space_for
from rl_environments.ticket_routing.core.typing import BoolArray, IntArray
from rl_environments.ticket_routing.sb3.loading import NORMALIZATION_FILE, ObservationNormalizer, load_model
from rl_environments.ticket_routing.sb3.observations import (
    DELAY_KEY,
    TICKET_EXPERTISE_KEY,
    ExpectedDelay,
    engineer_observation,
    engineered_space,
    expected_delay_model,
)


class SB3Policy:
    """A trained PPO / MaskablePPO model behind the project's policy interface.

    ``act(obs, mask)`` takes one flat observation and its action mask; ``act_batch(obs, masks)``
    a batch from the vector env. MaskablePPO always receives the mask. Plain PPO picks from all
    agents unless ``mask_invalid=True``, which takes its most likely *valid* agent instead.
    Observation statistics saved by the training scripts (``obs_normalization.npz`` beside the
    model) are applied when present.
    """

    def __init__(
        self,
        path: str | Path,
        config: ConfigLike = None,
        *,
        algo: str = "auto",
        deterministic: bool = True,
        mask_invalid: bool = False,
        name: str | None = None,
    ) -> None:
        file = Path(path)
        self.model = load_model(file, algo)
        self.algo = "maskable_ppo" if type(self.model).__name__ == "MaskablePPO" else "ppo"
        self.deterministic = deterministic
        self.mask_invalid = mask_invalid
        self.name = name or ("maskable_ppo" if self.algo == "maskable_ppo" else "ppo")
        obs_space = self.model.observation_space
        self.engineered = isinstance(obs_space, spaces.Dict) and TICKET_EXPERTISE_KEY in obs_space.spaces
        self.reads_delay = isinstance(obs_space, spaces.Dict) and self.engineered and DELAY_KEY in obs_space.spaces
        self._delay: ExpectedDelay | None = None
        stats = file.parent / NORMALIZATION_FILE
        self.normalizer = ObservationNormalizer(stats) if stats.is_file() else None
        if config is not None:
            self.check_config(config)

    def check_config(self, config: ConfigLike) -> None:
        """Raise ``ValueError`` unless the model's spaces are those of ``config``'s scenario."""
        cfg = resolve_config(config)
        space = self.model.action_space
        if not isinstance(space, spaces.Discrete) or int(space.n) != cfg.num_agents:
            raise ValueError(
                f"model: trained for action space {space}, but the scenario has num_agents={cfg.num_agents}"
            )
        expected = observation_space_for(cfg)
        if self.engineered:
            expected = engineered_space(expected, delay=self.reads_delay)
        trained = self.model.observation_space
        if not isinstance(trained, spaces.Dict):
            raise ValueError(f"model: trained on observation space {trained}, expected a Dict")
        for key in sorted(set(expected.spaces) | set(trained.spaces)):
            if expected.spaces.get(key) != trained.spaces.get(key):
                raise ValueError(
                    f"model: observation {key!r} was {trained.spaces.get(key)} in training but is "
                    f"{expected.spaces.get(key)} in this scenario; evaluate the model on the scenario it was trained on"
                )
        if self.reads_delay:
            self._delay = expected_delay_model(cfg)

    def reset(self, seed: int | None = None) -> None:
        """Seed the sampling of a stochastic policy (a deterministic one ignores it)."""
        if seed is not None:
            self.model.set_random_seed(seed)

    def act(self, obs: dict[str, Any], mask: BoolArray) -> int:
        batch = {key: np.asarray(value)[None, ...] for key, value in obs.items()}
        return int(self.act_batch(batch, np.asarray(mask)[None, :])[0])

    def act_batch(self, obs: dict[str, Any], masks: BoolArray) -> IntArray:
        batch = {key: np.asarray(value) for key, value in obs.items()}
        if self.engineered:
            if self.reads_delay and self._delay is None:
                raise ValueError(f"{self.name}: the model reads {DELAY_KEY!r}, which needs the scenario: pass config=")
            batch = engineer_observation(batch, self._delay)
        if self.normalizer is not None:
            batch = self.normalizer(batch)
        masks = np.asarray(masks, dtype=np.bool_)
        if self.algo == "maskable_ppo":
            actions, _ = self.model.predict(  # type: ignore[call-arg]
                batch, deterministic=self.deterministic, action_masks=masks
            )
        elif self.mask_invalid:
            actions = self._masked_ppo(batch, masks)
        else:
            actions, _ = self.model.predict(batch, deterministic=self.deterministic)
        return np.asarray(actions, dtype=np.int64).reshape(-1)

    def _masked_ppo(self, batch: dict[str, Any], masks: BoolArray) -> IntArray:
        import torch

        policy = self.model.policy
        if not isinstance(policy, ActorCriticPolicy):
            raise ValueError(f"model: mask_invalid needs an actor-critic policy, got {type(policy).__name__}")
        obs_tensor, _ = policy.obs_to_tensor(batch)
        with torch.no_grad():
            dist = policy.get_distribution(obs_tensor).distribution
            if not isinstance(dist, torch.distributions.Categorical):
                raise ValueError("model: mask_invalid needs a categorical action distribution")
            probs = np.asarray(dist.probs.cpu().numpy())
        probs = np.where(masks, probs, 0.0)
        if self.deterministic:
            return np.asarray(probs.argmax(axis=1), dtype=np.int64)
        weights = torch.as_tensor(probs / probs.sum(axis=1, keepdims=True))
        return np.asarray(torch.multinomial(weights, 1).numpy().reshape(-1), dtype=np.int64)


def load_policy(path: str | Path, config: ConfigLike = None, **kwargs: Any) -> SB3Policy:
    """:class:`SB3Policy` for the model at ``path`` (see its arguments)."""
    return SB3Policy(path, config, **kwargs)
