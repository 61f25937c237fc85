"""Loading saved models and their observation statistics without unpickling anything from the file.

The policy is rebuilt from the plain JSON of the zip's ``data`` member (policy class, spaces and
``net_arch`` from short lists of known values) and only the weights are read, with
``torch.load(weights_only=True)``. A file that needs anything more (a pickled ``":serialized:"``
field we cannot rebuild, an unknown policy class) is refused with a :class:`ModelFileError` that
names the field. Nothing is loaded implicitly: only from paths the user names.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn

from rl_environments.ticket_routing.core import safe_yaml
from rl_environments.ticket_routing.core.typing import AnyArray
from rl_environments.ticket_routing.sb3.policy import AgentScorePolicy, AgentSetExtractor, MaskableAgentScorePolicy

ALGORITHMS = ("ppo", "maskable_ppo")
"""Algorithms :class:`SB3Policy` can load."""

NORMALIZATION_FILE = "obs_normalization.npz"
"""Observation statistics saved next to a model (plain arrays, no pickle)."""

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
LEGACY_MODULE = "rl_environments.ticket_routing.sb3"
"""Where the project's policy classes lived when ``sb3`` was one module: models saved then name it."""

_POLICY_CLASSES: dict[tuple[str, str], tuple[str, type[BasePolicy]]] = {
    ("stable_baselines3.common.policies", "MultiInputActorCriticPolicy"): ("ppo", MultiInputActorCriticPolicy),
    ("sb3_contrib.common.maskable.policies", "MaskableMultiInputActorCriticPolicy"): (
        "maskable_ppo",
        MaskableMultiInputActorCriticPolicy,
    ),
    **{
        (module, "AgentScorePolicy"): ("ppo", AgentScorePolicy)
        for module in (AgentScorePolicy.__module__, LEGACY_MODULE)
    },
    **{
        (module, "MaskableAgentScorePolicy"): ("maskable_ppo", MaskableAgentScorePolicy)
        for module in (MaskableAgentScorePolicy.__module__, LEGACY_MODULE)
    },
}
"""The policy classes a model may name (module, class) -> (algorithm, class)."""

_ACTIVATIONS = ("Tanh", "ReLU", "ELU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softplus", "Mish", "SELU", "CELU")
_EXTRACTORS = {
    "stable_baselines3.common.torch_layers.CombinedExtractor": None,
    f"{AgentSetExtractor.__module__}.AgentSetExtractor": AgentSetExtractor,
    f"{LEGACY_MODULE}.AgentSetExtractor": AgentSetExtractor,
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
        known = ", ".join(dict.fromkeys(cls for _, cls in _POLICY_CLASSES))
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
