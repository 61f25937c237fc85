"""Stable-Baselines3 support: a ``VecEnv`` over the native vector env, and trained models as policies.

Needs the ``train`` extra (torch, stable-baselines3, sb3-contrib); the core package never imports this package.

>>> from rl_environments.ticket_routing.sb3 import TicketRoutingSB3VecEnv
>>> venv = TicketRoutingSB3VecEnv(num_envs=4)
>>> venv.reset()["agent_workload"].shape
(4, 10)

The modules, by what they hold:

- :mod:`~rl_environments.ticket_routing.sb3.observations`: engineered observations for a plain MLP;
- :mod:`~rl_environments.ticket_routing.sb3.policy`: the agent-set features extractor and policies;
- :mod:`~rl_environments.ticket_routing.sb3.vec_env`: :class:`TicketRoutingSB3VecEnv`, SB3's ``VecEnv`` API
  (same-step auto-reset, action masks for MaskablePPO, staggered episodes);
- :mod:`~rl_environments.ticket_routing.sb3.loading`: loading saved models and observation statistics
  without unpickling anything (:func:`load_model`, :class:`ModelFileError`);
- :mod:`~rl_environments.ticket_routing.sb3.trained_policy`: :class:`SB3Policy`, a trained model behind
  the project's policy interface.

Every public name is importable from this package as well.
"""

from __future__ import annotations

from rl_environments.ticket_routing.sb3.loading import (
    ALGORITHMS,
    MAX_DATA_BYTES,
    MAX_WEIGHTS_BYTES,
    NORMALIZATION_FILE,
    ModelFileError,
    ModelSpec,
    ObservationNormalizer,
    detect_algorithm,
    load_model,
    read_model_spec,
    save_normalization,
)
from rl_environments.ticket_routing.sb3.observations import (
    DELAY_KEY,
    DELAY_LOG_CAP,
    SCALAR_KEYS,
    TICKET_EXPERTISE_KEY,
    ExpectedDelay,
    engineer_observation,
    engineered_space,
    expected_delay_model,
    normalized_keys,
)
from rl_environments.ticket_routing.sb3.policy import (
    DELAY_PRIOR,
    DISPATCHER_AGENT_KEYS,
    AgentScorePolicy,
    AgentSetExtractor,
    MaskableAgentScorePolicy,
)
from rl_environments.ticket_routing.sb3.trained_policy import SB3Policy, load_policy
from rl_environments.ticket_routing.sb3.vec_env import TicketRoutingSB3VecEnv

__all__ = [
    "ALGORITHMS",
    "DELAY_KEY",
    "DELAY_LOG_CAP",
    "DELAY_PRIOR",
    "DISPATCHER_AGENT_KEYS",
    "MAX_DATA_BYTES",
    "MAX_WEIGHTS_BYTES",
    "NORMALIZATION_FILE",
    "SCALAR_KEYS",
    "TICKET_EXPERTISE_KEY",
    "AgentScorePolicy",
    "AgentSetExtractor",
    "ExpectedDelay",
    "MaskableAgentScorePolicy",
    "ModelFileError",
    "ModelSpec",
    "ObservationNormalizer",
    "SB3Policy",
    "TicketRoutingSB3VecEnv",
    "detect_algorithm",
    "engineer_observation",
    "engineered_space",
    "expected_delay_model",
    "load_model",
    "load_policy",
    "normalized_keys",
    "read_model_spec",
    "save_normalization",
]
