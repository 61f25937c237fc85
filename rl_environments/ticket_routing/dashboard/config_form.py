"""The Configuration page's form model: one widget per parameter, and safe import/export.

Widget values are plain numbers, strings and lists keyed by ``cfg:<dotted path>``; the form is
turned back into an :class:`EnvironmentConfig` by ``from_dict``, so every validation message is
the configuration's own. Uploads and matrix fields are parsed as data only, by the project's one
safe reader (:mod:`rl_environments.ticket_routing.core.safe_yaml`: no aliases, bounded size and depth,
no duplicate keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.core import safe_yaml

SECTIONS: tuple[str, ...] = ("general", "arrivals", "agents", "service", "sla", "csat", "reward")
"""Form sections in display order; ``general`` holds the top-level fields."""
MATRIX_FIELDS: dict[tuple[str, ...], str] = {
    ("arrivals", "weekly_profile"): "weekday: [24 hourly intensities], for all 7 weekdays; empty = flat",
    ("agents", "expertise"): "one row per agent, e.g. - [0.9, 0.3, 0.3, 0.3, 0.3]; empty = drawn each episode",
}
"""Optional matrices, edited as YAML/JSON text (empty means ``None``)."""
MAX_UPLOAD_BYTES = safe_yaml.MAX_BYTES
KEY_PREFIX = "cfg:"


@dataclass(frozen=True)
class ConfigField:
    """One editable parameter: its path in ``EnvironmentConfig.to_dict()`` and widget kind."""

    path: tuple[str | int, ...]
    kind: str
    """``int``, ``float``, ``bool``, ``text``, ``choice`` (service distribution), ``days`` (weekdays) or
    ``matrix`` (YAML text)."""
    help: str = ""

    @property
    def key(self) -> str:
        return KEY_PREFIX + ".".join(str(p) for p in self.path)

    @property
    def section(self) -> str:
        return str(self.path[0]) if len(self.path) > 1 else "general"

    @property
    def label(self) -> str:
        rest = self.path[1:] if len(self.path) > 1 else self.path
        parts = [str(p) for p in rest]
        if len(parts) > 1 and isinstance(rest[-1], int):
            parts[-1] = ("low", "high")[int(rest[-1])] if len(rest) == 2 else parts[-1]
        return " · ".join(parts)


def _leaf_fields(path: tuple[str | int, ...], value: Any) -> list[ConfigField]:
    if path in MATRIX_FIELDS:
        return [ConfigField(path, "matrix", MATRIX_FIELDS[path])]  # type: ignore[index]
    if path[-1] == "distribution":
        return [ConfigField(path, "choice")]
    if path[-1] == "work_days":
        return [ConfigField(path, "days")]
    if isinstance(value, Mapping):
        return [f for k, v in value.items() for f in _leaf_fields((*path, k), v)]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _leaf_fields((*path, i), v)]
    if isinstance(value, bool):
        return [ConfigField(path, "bool")]
    if isinstance(value, (int, float)):
        return [ConfigField(path, "int" if isinstance(value, int) else "float")]
    return [ConfigField(path, "text")]


def config_fields() -> list[ConfigField]:
    """Every editable parameter, in the order of ``EnvironmentConfig.to_dict()``."""
    data = EnvironmentConfig().to_dict()
    return [f for key, value in data.items() for f in _leaf_fields((key,), value)]


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def widget_values(config: EnvironmentConfig) -> dict[str, Any]:
    """The widget value of every field for ``config`` (write these into the session state)."""
    data = config.to_dict()
    out: dict[str, Any] = {}
    for f in config_fields():
        value = _get(data, f.path)
        if f.kind == "matrix":
            out[f.key] = "" if value is None else yaml.safe_dump(value, sort_keys=False, default_flow_style=None)
        elif f.kind == "float":
            out[f.key] = float(value)
        elif f.kind == "days":
            out[f.key] = list(value)
        else:
            out[f.key] = value
    return out


def _parse_matrix(name: str, text: object) -> Any:
    if text is None or not str(text).strip():
        return None
    return safe_yaml.load_yaml(str(text), source=name)


def config_from_widgets(values: Mapping[str, Any]) -> EnvironmentConfig:
    """Build the configuration from widget values; raises the config's own ``ValueError``."""
    data: dict[str, Any] = {}
    for f in config_fields():
        value = values[f.key]
        if f.kind == "matrix":
            value = _parse_matrix(".".join(str(p) for p in f.path), value)
        node: Any = data
        for part, nxt in zip(f.path[:-1], f.path[1:], strict=True):
            if part not in node:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
        last = f.path[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return EnvironmentConfig.from_dict(data)


def error_section(message: str) -> str:
    """The form section a validation message belongs to (from the field it names)."""
    head = message.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0].strip()
    return head if head in SECTIONS else "general"


def parse_config_upload(data: bytes, filename: str) -> EnvironmentConfig:
    """A configuration from an uploaded JSON or YAML file, parsed as data only.

    Raises ``ValueError`` naming the file and the problem (size, encoding, syntax or the config's
    own validation error).
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise safe_yaml.DataFileError(
            f"{filename}: file too large ({len(data)} bytes; the limit is {MAX_UPLOAD_BYTES})"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise safe_yaml.DataFileError(f"{filename}: not UTF-8 text; upload a JSON or YAML file") from None
    if filename.lower().endswith(".json"):
        parsed = safe_yaml.load_json(text, source=filename)
        if not isinstance(parsed, dict):
            raise safe_yaml.DataFileError(
                f"{filename}: expected a JSON object of settings, got {type(parsed).__name__}"
            )
        return EnvironmentConfig.from_dict(parsed)
    return EnvironmentConfig.from_yaml_text(text, source=filename)


def export_json(config: EnvironmentConfig) -> str:
    """The configuration as pretty-printed JSON."""
    return json.dumps(config.to_dict(), indent=2) + "\n"
