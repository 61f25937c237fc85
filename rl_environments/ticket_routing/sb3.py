"""Stable-Baselines3 support: a ``VecEnv`` over the native vector env, and trained models as policies.

Needs the ``train`` extra (torch, stable-baselines3, sb3-contrib); the core package never imports this module.

>>> from rl_environments.ticket_routing.sb3 import TicketRoutingSB3VecEnv
>>> venv = TicketRoutingSB3VecEnv(num_envs=4)
>>> venv.reset()["agent_workload"].shape
(4, 10)

SB3 resets a finished sub-environment inside ``step`` (the returned observation starts the next
episode, the last one is in ``infos[i]["terminal_observation"]``); the native vector env resets on
the *next* step. The adapter bridges the two by resetting finished rows right away, so no step is
wasted and every decision SB3 takes is a real routing decision.

Trained models load without unpickling anything from the file (:func:`load_model`): the policy is
rebuilt from the plain JSON of the zip's ``data`` member (policy class, spaces and ``net_arch`` from
short lists of known values) and only the weights are read, with ``torch.load(weights_only=True)``.
A file that needs anything more (a pickled ``":serialized:"`` field we cannot rebuild, an unknown
policy class) is refused with a :class:`ModelFileError` that names the field. Nothing is loaded
implicitly: only from paths the user names.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import VecEnv, VecNormalize
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn
from torch import nn

from rl_environments.ticket_routing.core import safe_yaml
from rl_environments.ticket_routing.core.config import TICKET_TYPES, ConfigLike, resolve_config
from rl_environments.ticket_routing.core.environment import observation_space_for
from rl_environments.ticket_routing.core.typing import AnyArray, BoolArray, IntArray
from rl_environments.ticket_routing.core.vector_env import TicketRoutingVectorEnv
from rl_environments.ticket_routing.wrappers import ticket_expertise

ALGORITHMS = ("ppo", "maskable_ppo")
"""Algorithms :class:`SB3Policy` can load."""

NORMALIZATION_FILE = "obs_normalization.npz"
"""Observation statistics saved next to a model (plain arrays, no pickle)."""

TICKET_EXPERTISE_KEY = "agent_ticket_expertise"
"""Engineered observation: each agent's expertise for the type of the ticket to route, ``(num_agents,)``."""

SCALAR_KEYS = ("queue_size", "time_step")
"""Discrete counters that engineered observations carry as one float instead of a one-hot vector."""


DELAY_KEY = "agent_expected_delay"
"""Engineered observation (opt-in): ``log(1 + h)`` for ``h`` the hours until the ticket would be
resolved at each agent according to the ``shift_sed`` rule (remaining work and shifts), ``(num_agents,)``."""

DELAY_LOG_CAP = float(np.log1p(1e5))
"""Upper bound of :data:`DELAY_KEY` (delays beyond 100,000 hours are clipped)."""

ExpectedDelay = Callable[[dict[str, Any]], Any]
"""Maps a batch of flat observations to ``(N, num_agents)`` expected hours."""


def expected_delay_model(config: ConfigLike) -> ExpectedDelay:
    """The ``shift_sed`` rule's expected hours per agent, for :func:`engineer_observation`."""
    from rl_environments.ticket_routing.policies import ShiftSedPolicy

    return ShiftSedPolicy(resolve_config(config)).expected_hours


def engineer_observation(obs: dict[str, Any], delay: ExpectedDelay | None = None) -> dict[str, Any]:
    """A batch of flat observations with routing features for a plain MLP.

    Adds :data:`TICKET_EXPERTISE_KEY` (the column of ``agent_expertise`` for the ticket's type, as
    in :class:`~rl_environments.ticket_routing.wrappers.CompactObservation`,
    which an MLP would otherwise have to learn as a product of a one-hot and a matrix) and turns
    ``queue_size`` and ``time_step`` into ``(N, 1)`` floats (SB3 one-hot encodes ``Discrete``
    inputs: 1,501 mostly idle inputs for ``time_step`` on the default scenario).
    """
    types = np.asarray(obs["ticket_type"], dtype=np.int64).reshape(-1)
    n = types.shape[0]
    out = dict(obs)
    out[TICKET_EXPERTISE_KEY] = ticket_expertise(types, np.asarray(obs["agent_expertise"]).reshape(n, -1))
    for key in SCALAR_KEYS:
        out[key] = np.asarray(obs[key], dtype=np.float32).reshape(n, 1)
    if delay is not None:
        hours = np.asarray(delay(obs), dtype=np.float64).reshape(n, -1)
        out[DELAY_KEY] = np.minimum(np.log1p(hours), DELAY_LOG_CAP).astype(np.float32)
    return out


def engineered_space(space: spaces.Dict, delay: bool = False) -> spaces.Dict:
    """The observation space of :func:`engineer_observation` for a flat observation ``space``."""
    items: dict[str, spaces.Space[Any]] = dict(space.spaces)
    for key in SCALAR_KEYS:
        counter = space[key]
        if not isinstance(counter, spaces.Discrete):
            raise ValueError(f"observation_space: {key!r} must be Discrete, got {counter}")
        items[key] = spaces.Box(0.0, float(int(counter.n) - 1), shape=(1,), dtype=np.float32)
    num_agents = space["agent_workload"].shape[0]  # type: ignore[index]
    items[TICKET_EXPERTISE_KEY] = spaces.Box(0.0, 1.0, shape=(num_agents,), dtype=np.float32)
    if delay:
        items[DELAY_KEY] = spaces.Box(0.0, DELAY_LOG_CAP, shape=(num_agents,), dtype=np.float32)
    return spaces.Dict(items)


def normalized_keys(space: spaces.Dict) -> list[str]:
    """Keys ``VecNormalize`` should standardise: the unbounded-scale ``Box`` entries."""
    skip = {"agent_expertise", TICKET_EXPERTISE_KEY, "hour_of_week", DELAY_KEY}  # bounded, on a meaningful scale
    return [key for key, sub in space.spaces.items() if isinstance(sub, spaces.Box) and key not in skip]


DISPATCHER_AGENT_KEYS = ("agent_next_change_hours", "agent_change_goes_offline", "agent_remaining_work", DELAY_KEY)
"""Per-agent observation keys about shifts and remaining work, fed to :class:`AgentSetExtractor`."""


class AgentSetExtractor(BaseFeaturesExtractor):
    """Features for engineered observations: every agent embedded by the same small MLP.

    Agent ``a``'s row (its expertise for the ticket's type, workload, availability, expertise
    vector, and, when the observation has them, hours to its next shift change, whether that change
    takes it offline and its remaining work) is joined with the ticket's features (type and priority
    one-hot, age, queue size, step, hour of week) and embedded by one shared network, so what is
    learned about one agent applies to all. The features are the agents' embeddings side by side,
    then their mean (for the critic). Use with ``TicketRoutingSB3VecEnv(..., engineered=True)``
    and, for a per-agent read-out,
    ``net_arch={"pi": [], "vf": [64]}``.
    """

    def __init__(self, observation_space: spaces.Dict, embed_dim: int = 16, hidden: int = 64) -> None:
        if TICKET_EXPERTISE_KEY not in observation_space.spaces:
            raise ValueError("observation_space: AgentSetExtractor needs engineered observations (engineered=True)")
        self.num_agents = int(observation_space["agent_workload"].shape[0])  # type: ignore[index]
        self.embed_dim = embed_dim
        types = int(observation_space["ticket_type"].n)  # type: ignore[attr-defined]
        priorities = int(observation_space["ticket_priority"].n)  # type: ignore[attr-defined]
        self.agent_keys = tuple(k for k in DISPATCHER_AGENT_KEYS if k in observation_space.spaces)
        clock = ("hour_of_week",) if "hour_of_week" in observation_space.spaces else ()
        self.ticket_keys = ("ticket_type", "ticket_priority", "ticket_age", "queue_size", "time_step", *clock)
        agent_in = 3 + len(TICKET_TYPES) + len(self.agent_keys)
        ticket_in = types + priorities + 3 + (2 if "hour_of_week" in self.ticket_keys else 0)
        self.uses_delay = DELAY_KEY in self.agent_keys
        extra = self.num_agents if self.uses_delay else 0  # the delay itself, for the score head's prior
        super().__init__(observation_space, features_dim=(self.num_agents + 1) * embed_dim + extra)
        self.mlp = nn.Sequential(
            nn.Linear(agent_in + ticket_in, hidden), nn.Tanh(), nn.Linear(hidden, embed_dim), nn.Tanh()
        )

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        torch, obs, a = th, observations, self.num_agents
        n = obs["agent_workload"].shape[0]
        columns = [obs[TICKET_EXPERTISE_KEY], obs["agent_workload"], obs["agent_availability"]]
        per_agent = torch.stack(columns + [obs[key] for key in self.agent_keys], dim=2)
        per_agent = torch.cat([per_agent, obs["agent_expertise"].reshape(n, a, len(TICKET_TYPES))], dim=2)
        ticket = torch.cat([obs[key].reshape(n, -1) for key in self.ticket_keys], dim=1)
        h = self.mlp(torch.cat([per_agent, ticket[:, None, :].expand(-1, a, -1)], dim=2))
        parts = [h.reshape(n, -1), h.mean(dim=1)]
        if self.uses_delay:
            parts.append(obs[DELAY_KEY].reshape(n, a))
        return torch.cat(parts, dim=1)


DELAY_PRIOR = 4.0
"""Initial weight of the rule prior: with :data:`DELAY_KEY` in the observation, agent ``a``'s logit
starts as ``-DELAY_PRIOR * delay[a]`` (a soft version of the ``shift_sed`` rule); the weight is learned."""


class _AgentScoreHead(nn.Module):
    """Logit of agent ``a`` = one shared linear score of agent ``a``'s embedding (permutation-equivariant),
    minus a learned multiple of its expected delay when the observation has it (the rule prior)."""

    def __init__(self, num_agents: int, embed_dim: int, delay_prior: bool = False) -> None:
        super().__init__()
        self.num_agents, self.embed_dim = num_agents, embed_dim
        self.score = nn.Linear(embed_dim, 1)
        nn.init.orthogonal_(self.score.weight, gain=0.01)
        nn.init.zeros_(self.score.bias)
        self.delay_weight = nn.Parameter(th.tensor(DELAY_PRIOR)) if delay_prior else None

    def forward(self, latent: th.Tensor) -> th.Tensor:
        n = latent.shape[0]
        blocks = latent[:, : self.num_agents * self.embed_dim].reshape(n, self.num_agents, self.embed_dim)
        scores: th.Tensor = self.score(blocks).squeeze(-1)
        if self.delay_weight is not None:
            scores = scores - self.delay_weight * latent[:, -self.num_agents :]
        return scores


def _agent_score_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("features_extractor_class", AgentSetExtractor)
    kwargs.setdefault("net_arch", {"pi": [], "vf": [64]})
    return kwargs


def _use_agent_scores(policy: ActorCriticPolicy, lr_schedule: Any) -> None:
    extractor = policy.pi_features_extractor
    if not isinstance(extractor, AgentSetExtractor) or policy.mlp_extractor.latent_dim_pi != extractor.features_dim:
        raise ValueError("net_arch: the agent-score policy needs AgentSetExtractor and no policy layers (pi=[])")
    policy.action_net = _AgentScoreHead(extractor.num_agents, extractor.embed_dim, extractor.uses_delay)
    policy.optimizer = policy.optimizer_class(  # type: ignore[call-arg]
        policy.parameters(), lr=lr_schedule(1), **policy.optimizer_kwargs
    )


class AgentScorePolicy(MultiInputActorCriticPolicy):
    """PPO policy that scores every agent with the same network (:class:`AgentSetExtractor` + shared head)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_agent_score_kwargs(kwargs))

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        _use_agent_scores(self, lr_schedule)


class MaskableAgentScorePolicy(MaskableMultiInputActorCriticPolicy):
    """MaskablePPO policy that scores every agent with the same network (see :class:`AgentScorePolicy`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_agent_score_kwargs(kwargs))

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        _use_agent_scores(self, lr_schedule)  # type: ignore[arg-type]


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


MAX_DATA_BYTES = 1 << 20
"""Largest ``data`` member (the JSON description) of a model zip read: 1 MiB (SB3 writes ~15 KB)."""
MAX_WEIGHTS_BYTES = 256 << 20
"""Largest ``policy.pth`` member (the weights) read: 256 MiB (the default policy is ~0.2 MB)."""


class ModelFileError(ValueError):
    """A model file that is not a Stable-Baselines3 PPO/MaskablePPO zip this project can load safely."""


# --------------------------------------------------------------------- observation normalisation
def save_normalization(vec_normalize: VecNormalize, directory: str | Path) -> Path:
    """Write the observation statistics of ``vec_normalize`` as ``obs_normalization.npz`` in ``directory``."""
    rms = vec_normalize.obs_rms
    if not isinstance(rms, dict):
        raise ValueError("vec_normalize: expected a VecNormalize over a Dict observation space")
    arrays: dict[str, AnyArray] = {
        "clip_obs": np.array(vec_normalize.clip_obs),
        "epsilon": np.array(vec_normalize.epsilon),
    }
    for key, stats in rms.items():
        arrays[f"mean/{key}"] = np.asarray(stats.mean)
        arrays[f"var/{key}"] = np.asarray(stats.var)
    path = Path(directory) / NORMALIZATION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


class ObservationNormalizer:
    """Applies saved ``VecNormalize`` observation statistics without unpickling anything."""

    def __init__(self, path: str | Path) -> None:
        file = Path(path)
        try:
            with zipfile.ZipFile(file) as archive:
                size = sum(info.file_size for info in archive.infolist())
            if size > MAX_WEIGHTS_BYTES:
                raise ValueError(f"{size:,} bytes unpacked; the limit is {MAX_WEIGHTS_BYTES:,}")
            with np.load(file, allow_pickle=False) as data:
                self.clip = float(data["clip_obs"])
                self.epsilon = float(data["epsilon"])
                self.mean = {name[5:]: data[name].copy() for name in data.files if name.startswith("mean/")}
                self.var = {name[4:]: data[name].copy() for name in data.files if name.startswith("var/")}
        except (
            OSError,
            ValueError,
            KeyError,
            EOFError,
            RuntimeError,
            NotImplementedError,
            zlib.error,
            zipfile.BadZipFile,
        ) as exc:
            raise ModelFileError(
                f"model: {str(file)!r}: not readable observation statistics ({safe_yaml.preview(str(exc), 160)})"
            ) from None

    def __call__(self, obs: dict[str, Any]) -> dict[str, Any]:
        out = dict(obs)
        for key, mean in self.mean.items():
            value = np.asarray(obs[key], dtype=np.float32)
            out[key] = np.clip((value - mean) / np.sqrt(self.var[key] + self.epsilon), -self.clip, self.clip).astype(
                np.float32
            )
        return out


# --------------------------------------------------------------------- trained models as policies
_POLICY_CLASSES: dict[tuple[str, str], tuple[str, type[BasePolicy]]] = {
    ("stable_baselines3.common.policies", "MultiInputActorCriticPolicy"): ("ppo", MultiInputActorCriticPolicy),
    ("sb3_contrib.common.maskable.policies", "MaskableMultiInputActorCriticPolicy"): (
        "maskable_ppo",
        MaskableMultiInputActorCriticPolicy,
    ),
    (__name__, "AgentScorePolicy"): ("ppo", AgentScorePolicy),
    (__name__, "MaskableAgentScorePolicy"): ("maskable_ppo", MaskableAgentScorePolicy),
}
"""The policy classes a model may name (module, class) -> (algorithm, class)."""

_ACTIVATIONS = ("Tanh", "ReLU", "ELU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softplus", "Mish", "SELU", "CELU")
_EXTRACTORS = {
    "stable_baselines3.common.torch_layers.CombinedExtractor": None,
    f"{__name__}.AgentSetExtractor": AgentSetExtractor,
}
_MAX_LAYERS, _MAX_WIDTH = 16, 8192
_SPACE_ITEM = re.compile(
    r"'(\w+)': (Discrete\((\d+)\)|MultiBinary\((\d+)\)|Box\(([^,()]+), ([^,()]+), \(([\d, ]*)\), (\w+)\))"
)
_BOX_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class ModelSpec:
    """What a model zip's ``data`` says about its policy, read as plain JSON (see :func:`read_model_spec`)."""

    algo: str
    policy_class: type[BasePolicy]
    observation_space: spaces.Dict
    action_space: spaces.Discrete[Any]
    policy_kwargs: dict[str, Any]


def _model_error(path: Path, message: str) -> ModelFileError:
    return ModelFileError(f"model: {str(path)!r}: {message}")


def _read_member(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _model_error(path, f"not a Stable-Baselines3 model file (no {name!r} member)") from None
    if info.file_size > limit:
        raise _model_error(path, f"member {name!r} is {info.file_size:,} bytes; the limit is {limit:,}")
    try:
        with archive.open(info) as member:
            raw = member.read(limit + 1)
    except NotImplementedError as exc:  # Deflate64 (what Windows writes for large files), ...
        raise _model_error(path, f"member {name!r} uses a compression method that cannot be read ({exc})") from None
    except RuntimeError as exc:  # encrypted members
        raise _model_error(path, f"cannot read member {name!r}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _model_error(path, f"member {name!r} is corrupt ({exc})") from None
    if len(raw) > limit:
        raise _model_error(path, f"member {name!r} is larger than the {limit:,}-byte limit")
    return raw


def _open_zip(path: Path) -> zipfile.ZipFile:
    if path.is_dir():
        raise _model_error(path, "is a directory, not a model file")
    if not path.is_file():
        raise _model_error(path, "file not found")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise _model_error(path, f"not a Stable-Baselines3 model file ({exc})") from None


def _plain_fields(path: Path, name: str, value: object) -> dict[str, Any]:
    """A field SB3 stored as an object: its readable attributes (never its ``:serialized:`` pickle)."""
    if not isinstance(value, dict):
        raise _model_error(path, f"data.{name}: expected an object, got {safe_yaml.preview(value, 80)}")
    return {k: v for k, v in value.items() if k not in (":type:", ":serialized:")}


def _policy_class(path: Path, value: object) -> tuple[str, type[BasePolicy]]:
    fields = _plain_fields(path, "policy_class", value)
    module = fields.get("__module__")
    init = fields.get("__init__")
    match = re.fullmatch(r"<function (\w+)\.__init__ at 0x[0-9a-f]+>", init) if isinstance(init, str) else None
    key = (str(module), match.group(1) if match else "")
    if key not in _POLICY_CLASSES:
        known = ", ".join(cls for _, cls in _POLICY_CLASSES)
        raise _model_error(
            path,
            f"data.policy_class: {safe_yaml.preview(key[1] or init, 80)} from {safe_yaml.preview(module, 80)} is not "
            f"a policy this project can rebuild without unpickling (known: {known})",
        )
    return _POLICY_CLASSES[key]


def _observation_space(path: Path, value: object) -> spaces.Dict:
    fields = _plain_fields(path, "observation_space", value)
    text = fields.get("spaces")
    if not isinstance(text, str) or not text.startswith("{") or not text.endswith("}"):
        raise _model_error(path, "data.observation_space: no readable 'spaces' description")
    items: dict[str, spaces.Space[Any]] = {}
    for match in _SPACE_ITEM.finditer(text):
        key, _, discrete, binary, low, high, shape, dtype = match.groups()
        try:
            if discrete is not None:
                items[key] = spaces.Discrete(int(discrete))
            elif binary is not None:
                items[key] = spaces.MultiBinary(int(binary))
            else:
                if dtype not in _BOX_DTYPES:
                    raise ValueError(f"dtype {dtype}")
                dims = tuple(int(d) for d in shape.replace(" ", "").split(",") if d)
                items[key] = spaces.Box(
                    float(low), float(high), shape=dims, dtype=np.float32 if dtype == "float32" else np.float64
                )
        except (ValueError, TypeError, OverflowError) as exc:
            raise _model_error(path, f"data.observation_space: {key!r}: {str(exc)[:120]}") from None
    rebuilt = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in items.items()) + "}"
    if rebuilt != text:  # anything not of the plain forms above (or rebuilt differently) is refused
        raise _model_error(
            path,
            f"data.observation_space: {safe_yaml.preview(text, 160)} is not a Dict of Discrete, MultiBinary and "
            "Box spaces with scalar bounds that can be rebuilt without unpickling",
        )
    return spaces.Dict(items)


def _action_space(path: Path, value: object) -> spaces.Discrete[Any]:
    fields = _plain_fields(path, "action_space", value)
    try:
        n, start = int(str(fields.get("n"))), int(str(fields.get("start", "0")))
    except ValueError:
        n, start = 0, -1
    if not 1 <= n <= 100_000 or start != 0:
        raise _model_error(
            path, f"data.action_space: expected Discrete(n) with n agents, got {safe_yaml.preview(fields, 120)}"
        )
    return spaces.Discrete(n)


def _layers(path: Path, name: str, value: object) -> list[int]:
    if (
        not isinstance(value, list)
        or len(value) > _MAX_LAYERS
        or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= _MAX_WIDTH for w in value)
    ):
        raise _model_error(
            path, f"data.policy_kwargs.{name}: expected up to {_MAX_LAYERS} layer widths in 1..{_MAX_WIDTH}"
        )
    return list(value)


def _policy_kwargs(path: Path, value: object) -> dict[str, Any]:
    """The policy's keyword arguments from a short list of known fields and values; others are refused."""
    fields = _plain_fields(path, "policy_kwargs", value) if value is not None else {}
    out: dict[str, Any] = {}
    for key, item in fields.items():
        where = f"data.policy_kwargs.{key}"
        if key == "net_arch":
            if isinstance(item, dict):
                unknown = set(item) - {"pi", "vf"}
                if unknown:
                    raise _model_error(path, f"{where}: unknown key(s) {sorted(unknown)}; expected pi and vf")
                out[key] = {k: _layers(path, f"net_arch.{k}", v) for k, v in item.items()}
            else:
                out[key] = _layers(path, key, item)
        elif key == "activation_fn":
            found = re.fullmatch(r"<class 'torch\.nn\.modules\.activation\.(\w+)'>", str(item))
            if not found or found.group(1) not in _ACTIVATIONS:
                raise _model_error(
                    path, f"{where}: {safe_yaml.preview(item, 80)} is not one of {', '.join(_ACTIVATIONS)}"
                )
            out[key] = getattr(nn, found.group(1))
        elif key == "features_extractor_class":
            found = re.fullmatch(r"<class '([\w.]+)'>", str(item))
            if not found or found.group(1) not in _EXTRACTORS:
                raise _model_error(path, f"{where}: {safe_yaml.preview(item, 80)} is not a known features extractor")
            extractor = _EXTRACTORS[found.group(1)]
            if extractor is not None:
                out[key] = extractor
        elif key == "features_extractor_kwargs":
            if not isinstance(item, dict) or not all(
                k in ("embed_dim", "hidden") and isinstance(v, int) and 1 <= v <= 1024 for k, v in item.items()
            ):
                raise _model_error(path, f"{where}: expected embed_dim / hidden integers in 1..1024")
            out[key] = dict(item)
        elif key in ("ortho_init", "share_features_extractor", "normalize_images"):
            if not isinstance(item, bool):
                raise _model_error(path, f"{where}: expected true or false")
            out[key] = item
        elif key in ("optimizer_class", "optimizer_kwargs"):
            continue  # training only: not needed to predict
        else:
            raise _model_error(
                path, f"{where}: not supported when loading without unpickling (needs {safe_yaml.preview(item, 80)})"
            )
    return out


def read_model_spec(path: str | Path) -> ModelSpec:
    """The policy class, spaces and policy arguments of a saved SB3 model, from the JSON of its ``data``
    member alone (nothing is unpickled); :class:`ModelFileError` if anything cannot be rebuilt."""
    file = Path(path)
    with _open_zip(file) as archive:
        raw = _read_member(archive, "data", MAX_DATA_BYTES, file)
    try:
        data = safe_yaml.load_json(raw, source=f"{file}: data", max_bytes=MAX_DATA_BYTES, nonfinite=True)
    except safe_yaml.DataFileError as exc:
        raise _model_error(file, f"not a Stable-Baselines3 model file ({exc})") from None
    if not isinstance(data, dict):
        raise _model_error(file, f"not a Stable-Baselines3 model file (data is {type(data).__name__}, not an object)")
    for name in ("policy_class", "observation_space", "action_space"):
        if name not in data:
            raise _model_error(file, f"not a Stable-Baselines3 model file (data has no {name!r})")
    algo, policy_class = _policy_class(file, data["policy_class"])
    return ModelSpec(
        algo=algo,
        policy_class=policy_class,
        observation_space=_observation_space(file, data["observation_space"]),
        action_space=_action_space(file, data["action_space"]),
        policy_kwargs=_policy_kwargs(file, data.get("policy_kwargs")),
    )


def detect_algorithm(path: str | Path) -> str:
    """``"ppo"`` or ``"maskable_ppo"`` from the JSON header of a saved SB3 zip (nothing is unpickled)."""
    return read_model_spec(path).algo


def _read_weights(path: Path) -> dict[str, th.Tensor]:
    with _open_zip(path) as archive:
        raw = _read_member(archive, "policy.pth", MAX_WEIGHTS_BYTES, path)
    try:
        state = th.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or non-weight content
        raise _model_error(
            path, f"policy.pth: not readable as plain weights ({safe_yaml.preview(str(exc), 160)})"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, th.Tensor) for k, v in state.items()
    ):
        raise _model_error(path, "policy.pth: expected a mapping of parameter names to tensors")
    return state


def _estimated_parameters(spec: ModelSpec) -> tuple[int, int]:
    """Upper estimates of the rebuilt policy's parameter count: the kept parameters, and the peak while
    it is built (an agent-score policy first builds a full action layer, then replaces it)."""
    kwargs = spec.policy_kwargs
    n = int(spec.action_space.n)
    agent_scores = issubclass(spec.policy_class, (AgentScorePolicy, MaskableAgentScorePolicy))
    extractor = kwargs.get("features_extractor_class", AgentSetExtractor if agent_scores else None)
    sizes = kwargs.get("features_extractor_kwargs", {})
    embed, hidden = int(sizes.get("embed_dim", 16)), int(sizes.get("hidden", 64))
    if extractor is AgentSetExtractor:
        features = (n + 1) * embed
        extractor_params = 2 * (hidden * 64 + hidden * embed)  # policy and value extractors, if not shared
    else:
        features = int(spaces.flatdim(spec.observation_space))
        extractor_params = 0
    arch = kwargs.get("net_arch", {"pi": [], "vf": [64]} if agent_scores else [64, 64])
    heads = arch if isinstance(arch, dict) else {"pi": arch, "vf": arch}
    layers = {}
    for head, outputs in (("pi", n), ("vf", 1)):
        widths = [features, *heads.get(head, []), outputs]
        layers[head] = sum((a + 1) * b for a, b in itertools.pairwise(widths))
    kept = extractor_params + layers["vf"] + ((embed + 1) if agent_scores else layers["pi"])
    return kept, extractor_params + layers["vf"] + layers["pi"]


def _zero_schedule(_: float) -> float:
    return 0.0


def load_model(path: str | Path, algo: str = "auto") -> BaseAlgorithm:
    """Load a PPO or MaskablePPO model from a path the user named, on the CPU, without unpickling.

    The policy is rebuilt from :func:`read_model_spec` and gets the weights of ``policy.pth`` read
    with ``torch.load(weights_only=True)``; the returned model can ``predict`` (not train further).
    """
    if algo not in ("auto", *ALGORITHMS):
        raise ValueError(f"algo: invalid value {algo!r}; allowed: auto, {', '.join(ALGORITHMS)}")
    file = Path(path)
    spec = read_model_spec(file)
    if algo not in ("auto", spec.algo):
        raise _model_error(file, f"holds a {spec.algo} policy ({spec.policy_class.__name__}), not {algo}")
    state = _read_weights(file)
    weights = sum(int(t.numel()) for t in state.values())
    kept, peak = _estimated_parameters(spec)
    if kept > 2 * weights + 100_000 or peak > MAX_WEIGHTS_BYTES // 4:
        raise _model_error(file, "data describes a far larger network than policy.pth holds")
    try:
        policy = spec.policy_class(spec.observation_space, spec.action_space, _zero_schedule, **spec.policy_kwargs)
        policy.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise _model_error(
            file, f"policy.pth does not fit the policy described in data ({safe_yaml.preview(str(exc), 200)})"
        ) from None
    policy.set_training_mode(False)
    model_class: Any
    if spec.algo == "ppo":
        from stable_baselines3 import PPO

        model_class = PPO
    else:
        from sb3_contrib import MaskablePPO

        model_class = MaskablePPO
    model: BaseAlgorithm = model_class(spec.policy_class, env=None, device="cpu", _init_setup_model=False)
    model.observation_space = spec.observation_space
    model.action_space = spec.action_space
    model.policy = policy
    return model


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
