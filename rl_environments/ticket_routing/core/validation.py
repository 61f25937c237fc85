"""Checking helpers of the configuration, and :class:`ConfigError`.

Each helper takes the dotted name of a field and a value of any type, and returns the value in the
form the config stores (a float, an int, a tuple of floats...) or raises a :class:`ConfigError`
whose message names the field, a bounded preview of the value (:func:`.safe_yaml.preview`) and what
is allowed. Mappings keyed by name are accepted here, at the input boundary, and turned into tuples.

>>> named_vector("sla.resolution_hours", {"a": 1, "b": 2.5}, ("a", "b"), 0.0)
(1.0, 2.5)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

from rl_environments.ticket_routing.core import safe_yaml


class ConfigError(ValueError):
    """An invalid configuration value: the message names the field, the value and what is allowed."""


def fail(name: str, value: object, allowed: str) -> ConfigError:
    """The error of every validation: the value is quoted through a bounded preview."""
    return ConfigError(f"{bounded_name(name)}: invalid value {safe_yaml.preview(value)}; {allowed}")


def bounded_name(name: str, limit: int = 160) -> str:
    """``name`` cut to ``limit`` characters (names can embed keys read from user data)."""
    return name if len(name) <= limit else name[: limit - 3] + "..."


def key_name(prefix: str, key: object) -> str:
    """``prefix.key`` for a key read from user data (bounded in length)."""
    text = key if isinstance(key, str) else safe_yaml.preview(key, 60)
    return f"{prefix}.{text[:60]}" if prefix else text[:60]


def number(name: str, value: object) -> float:
    """A finite number as a float (not a bool)."""
    # numbers.Real also admits NumPy's integer and floating scalars.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or type(value).__name__ == "bool_":
        raise fail(name, value, "expected a number")
    try:
        result = float(value)
    except (OverflowError, ValueError):
        raise fail(name, value, "expected a finite number") from None
    if not math.isfinite(result):
        raise fail(name, value, "expected a finite number")
    return result


def integer(name: str, value: object, low: int, high: int | None = None) -> int:
    """An integer in ``[low, high]`` as a plain int (not a bool)."""
    # numbers.Integral also admits NumPy's integer scalars; the result is always a plain int.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or type(value).__name__ == "bool_":
        raise fail(name, value, "expected an integer")
    result = int(value)
    if result < low or (high is not None and result > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise fail(name, value, f"must be an integer {bound}")
    return result


def in_range(
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
) -> float:
    """A number in ``[low, high]`` (``(low, high]`` with ``low_open``) as a float."""
    result = number(name, value)
    if result < low or (low_open and result == low) or result > high:
        left = "(" if low_open else "["
        raise fail(name, value, f"must lie in {left}{low}, {high}]")
    return result


def named_vector(
    name: str,
    value: object,
    names: tuple[str, ...],
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
) -> tuple[float, ...]:
    """Accept a mapping keyed by ``names`` (exactly those keys) or a sequence in that order."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise fail(key_name(name, unknown[0]), value[unknown[0]], f"unknown key; allowed keys: {', '.join(names)}")
        missing = [k for k in names if k not in value]
        if missing:
            raise fail(
                name, dict(value), f"missing key(s) {', '.join(missing)}; every one of {', '.join(names)} is required"
            )
        items = [value[k] for k in names]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != len(names):
            raise fail(name, value, f"expected {len(names)} values ({', '.join(names)})")
        items = list(value)
    else:
        raise fail(name, value, f"expected a mapping with keys {', '.join(names)}")
    return tuple(
        in_range(f"{name}.{key}", item, low, high, low_open=low_open) for key, item in zip(names, items, strict=True)
    )


def mix(name: str, value: object, names: tuple[str, ...]) -> tuple[float, ...]:
    """Probabilities keyed by ``names`` (see :func:`named_vector`) that sum to 1."""
    probs = named_vector(name, value, names, 0.0, 1.0)
    if abs(sum(probs) - 1.0) > 1e-6:
        raise fail(
            name, dict(zip(names, probs, strict=True)), f"probabilities must sum to 1 (they sum to {sum(probs):.6g})"
        )
    return probs


def pair(name: str, value: object, low: float, high: float) -> tuple[float, float]:
    """A range ``[lo, hi]`` with ``low <= lo <= hi <= high``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise fail(name, value, "expected a pair [low, high]")
    lo = in_range(f"{name}[0]", value[0], low, high)
    hi = in_range(f"{name}[1]", value[1], low, high)
    if lo > hi:
        raise fail(name, value, "low must not exceed high")
    return (lo, hi)


def store(obj: object, attr: str, value: object) -> None:
    """Set a field of a frozen dataclass to its validated value (in ``__post_init__``)."""
    object.__setattr__(obj, attr, value)


def plain(value: object) -> object:
    """Convert a config value into YAML/JSON-friendly built-ins (tuples become lists)."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value
