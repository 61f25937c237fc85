"""The one reader for YAML and JSON files: data only, bounded in size, depth and time.

Every configuration, mapping file and dashboard import goes through :func:`load_yaml` or
:func:`load_json`. Both build plain Python data (dicts, lists, strings, numbers, booleans, None)
and never run code. They refuse, with a :class:`DataFileError` that names the source and line:

- input larger than :data:`MAX_BYTES` (256 KiB unless ``max_bytes`` says otherwise);
- nesting deeper than :data:`MAX_DEPTH` (32) mappings or lists;
- YAML anchors and aliases (``&name`` / ``*name``), so a few hundred bytes cannot expand into
  gigabytes ("billion laughs");
- the same key twice in one mapping or object (the later value would silently win);
- JSON's non-standard ``NaN`` / ``Infinity`` constants.

Error messages quote offending values only through :func:`preview`, which is bounded to a few
hundred characters whatever the value's size.
"""

from __future__ import annotations

import json
import re
import reprlib
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "PREVIEW_CHARS",
    "DataFileError",
    "load_json",
    "load_yaml",
    "load_yaml_mapping",
    "preview",
    "read_text",
]

MAX_BYTES = 256 * 1024
"""Largest YAML or JSON input read by default (256 KiB, parsed in about a second); configs and
mapping files are a few KB, a config with a fixed expertise row for each of 1,000 agents ~90 KB."""
MAX_DEPTH = 32
"""Deepest nesting of mappings/lists accepted; the configuration needs 3 levels."""
PREVIEW_CHARS = 200
"""Longest quote of a value in an error message, in characters."""


class DataFileError(ValueError):
    """A YAML or JSON document (or file) that cannot be read safely or is not valid."""


_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxdict = 8
_repr.maxlist = 8
_repr.maxtuple = 8
_repr.maxset = 8
_repr.maxstring = PREVIEW_CHARS
_repr.maxother = PREVIEW_CHARS
_repr.maxlong = 40


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """``repr(value)`` cut to at most ``limit`` characters, in time and memory bounded by ``limit``
    (nested containers are abbreviated before they are rendered)."""
    text = _repr.repr(value)  # reprlib also survives a __repr__ that raises
    if len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return text


def _line(node_or_event: Node | NodeEvent | Any) -> int:
    mark = getattr(node_or_event, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


# --------------------------------------------------------------------------- YAML
class _SafeComposer(Composer):
    """PyYAML's composer with aliases, anchors and deep nesting refused."""

    source_name: str
    max_depth: int
    depth: int

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):  # type: ignore[attr-defined]
            event = self.peek_event()  # type: ignore[attr-defined]
            raise DataFileError(
                f"{self.source_name}: line {_line(event)}: YAML aliases (*{str(event.anchor)[:60]}) are not "
                "allowed; write the value out"
            )
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise DataFileError(
                f"{self.source_name}: line {_line(event)}: YAML anchors (&{str(event.anchor)[:60]}) are not "
                "allowed; write the value out"
            )
        if isinstance(event, CollectionStartEvent):
            self.depth += 1
            if self.depth > self.max_depth:
                raise DataFileError(
                    f"{self.source_name}: line {_line(event)}: nested deeper than {self.max_depth} levels"
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        return super().compose_node(parent, index)


class _SafeConstructor(SafeConstructor):
    """PyYAML's safe constructor with duplicate keys refused."""

    source_name: str

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                raise DataFileError(
                    f"{self.source_name}: line {_line(key_node)}: a mapping key must be a plain value, "
                    f"got {preview(key)}"
                ) from None
            if first is not None:
                raise DataFileError(
                    f"{self.source_name}: line {_line(key_node)}: duplicate key {preview(key)} "
                    f"(first given on line {first})"
                )
            seen[key] = _line(key_node)
        return super().construct_mapping(node, deep=deep)


class _SafeLoader(Reader, Scanner, Parser, _SafeComposer, _SafeConstructor, Resolver):
    """Pure-Python loader (used when PyYAML was built without libyaml)."""

    def __init__(self, stream: str, source_name: str, max_depth: int) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.source_name = source_name
        self.max_depth = max_depth
        self.depth = 0


if yaml.__with_libyaml__:
    import yaml._yaml as _yaml

    class _FastSafeLoader(_SafeComposer, _yaml.CParser, _SafeConstructor, Resolver):
        """libyaml's parser (C, several times faster) under the same checking composer and constructor."""

        def __init__(self, stream: str, source_name: str, max_depth: int) -> None:
            _yaml.CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.source_name = source_name
            self.max_depth = max_depth
            self.depth = 0

    _LOADER: type[Any] = _FastSafeLoader
else:  # pragma: no cover - PyYAML wheels ship libyaml
    _LOADER = _SafeLoader


def load_yaml(
    data: str | bytes | Path,
    source: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse YAML (JSON too, as far as YAML 1.1 reads it) into plain data; ``None`` for an empty document.

    ``data`` is the text itself (``str`` / ``bytes``) or a :class:`~pathlib.Path` to read;
    ``source`` names it in errors (default: the path, or ``<text>``).
    """
    text, name = _text_of(data, source, max_bytes)
    loader = _LOADER(text, name, max_depth)
    try:
        return loader.get_single_data()
    except DataFileError:
        raise
    except yaml.YAMLError as exc:
        message = str(exc).replace('"<unicode string>"', name)
        raise DataFileError(f"{name}: not valid YAML/JSON: {_bounded(message)}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. an integer of 5000 digits
        raise DataFileError(f"{name}: cannot read a value: {_bounded(str(exc))}") from None
    finally:
        loader.dispose()


def load_yaml_mapping(
    data: str | bytes | Path, source: str | None = None, *, max_bytes: int = MAX_BYTES
) -> dict[str, Any]:
    """:func:`load_yaml`, requiring a mapping at the top (an empty document is ``{}``)."""
    name = source or (str(data) if isinstance(data, Path) else "<text>")
    value = load_yaml(data, name, max_bytes=max_bytes)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataFileError(f"{name}: expected a mapping of settings at the top level, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------- JSON
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')


def _check_json_structure(text: str, name: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` and duplicate keys, with line numbers (one pass)."""
    stack: list[dict[str, int] | None] = []  # a dict of keys seen for an object, None for an array
    pending: re.Match[str] | None = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            stack.append({} if token == "{" else None)
            if len(stack) > max_depth:
                line = text.count("\n", 0, match.start()) + 1
                raise DataFileError(f"{name}: line {line}: nested deeper than {max_depth} levels")
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ":" and pending is not None and stack and stack[-1] is not None:
            try:
                key = json.loads(pending.group())
            except ValueError:
                key = pending.group()
            line = text.count("\n", 0, pending.start()) + 1
            first = stack[-1].get(key)
            if first is not None:
                raise DataFileError(f"{name}: line {line}: duplicate key {preview(key)} (first given on line {first})")
            stack[-1][key] = line
        pending = match if token.startswith('"') else None


def _refuse_constant(name: str) -> Any:
    raise DataFileError(f"{name} is not a JSON number")


def load_json(
    data: str | bytes | Path,
    source: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    nonfinite: bool = False,
) -> Any:
    """Parse strict JSON into plain data (see :func:`load_yaml` for the arguments); ``nonfinite=True``
    also accepts the ``NaN`` / ``Infinity`` that Python's ``json.dumps`` writes."""
    text, name = _text_of(data, source, max_bytes)
    _check_json_structure(text, name, max_depth)
    try:
        if nonfinite:
            return json.loads(text)
        return json.loads(text, parse_constant=_refuse_constant)
    except DataFileError as exc:
        raise DataFileError(f"{name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{name}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise DataFileError(f"{name}: cannot read a value: {_bounded(str(exc))}") from None


# --------------------------------------------------------------------------- files and text
def read_text(path: str | Path, max_bytes: int = MAX_BYTES, what: str = "file") -> str:
    """A UTF-8 text file of at most ``max_bytes`` bytes, with a named error for every file problem
    (missing, a directory, unreadable, too large, not UTF-8)."""
    p = Path(path)
    if p.is_dir():
        raise DataFileError(f"{p}: is a directory, not a {what}")
    try:
        with p.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise DataFileError(f"{p}: file not found") from None
    except OSError as exc:
        raise DataFileError(f"{p}: cannot read file: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise DataFileError(f"{p}: larger than the {max_bytes:,}-byte limit for a {what}")
    return _decode(raw, str(p))


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def _text_of(data: str | bytes | Path, source: str | None, max_bytes: int) -> tuple[str, str]:
    if isinstance(data, Path):
        name = source or str(data)
        return read_text(data, max_bytes), name
    name = source or "<text>"
    if isinstance(data, bytes):
        if len(data) > max_bytes:
            raise DataFileError(f"{name}: larger than the {max_bytes:,}-byte limit")
        return _decode(data, name), name
    if not isinstance(data, str):
        raise DataFileError(f"{name}: expected text, bytes or a path, got {type(data).__name__}")
    if len(data) > max_bytes or len(data.encode("utf-8", "surrogatepass")) > max_bytes:
        raise DataFileError(f"{name}: larger than the {max_bytes:,}-byte limit")
    return data, name


def _bounded(text: str, limit: int = 2 * PREVIEW_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
