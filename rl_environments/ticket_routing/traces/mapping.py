"""The column mapping: where the fields of a ticket live in a log, and how its labels translate."""

from __future__ import annotations

import codecs
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.core.data_models import PRIORITIES, TICKET_TYPES
from rl_environments.ticket_routing.core.safe_yaml import DataFileError, load_yaml, preview
from rl_environments.ticket_routing.traces.errors import MappingError, name_preview

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "config" / "mappings"


def _known_encoding(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _norm(label: object) -> str:
    return str(label).strip().casefold()


def _type_key(label: object) -> str:
    return _norm(label).replace(" ", "_").replace("-", "_")


_COLUMN_ROLES = ("opened_at", "priority", "category", "resolved_at", "assignee", "ticket_id", "order_by")
_MAPPING_KEYS = (
    "columns",
    "timestamp_format",
    "na_values",
    "keep",
    "priorities",
    "types",
    "default_type",
    "drop_incomplete",
    "separator",
    "encoding",
)


@dataclass(frozen=True)
class ColumnMapping:
    """Where the fields of a ticket live in a log, and how its labels translate.

    ``opened_at`` and ``priority`` are required columns; the others are optional (``None``).
    With ``ticket_id`` set, rows are events and each ticket keeps one row (``keep``: its ``last``
    or ``first`` row, in file order or ordered by ``order_by``). ``priorities`` maps labels to
    :data:`PRIORITIES` names and ``types`` maps categories to :data:`TICKET_TYPES` names (both
    case-insensitive; empty tables accept the names themselves). Categories missing from ``types``
    (or empty) get ``default_type``, or raise :class:`UnknownCategoryError` when it is ``None``.
    Without a category column every ticket is ``default_type`` (``technical`` if unset).
    """

    opened_at: str = "opened_at"
    priority: str = "priority"
    category: str | None = None
    resolved_at: str | None = None
    assignee: str | None = None
    ticket_id: str | None = None
    order_by: str | None = None
    timestamp_format: str | None = None
    """``strptime`` format such as ``%d/%m/%Y %H:%M``; ``None`` reads ISO 8601."""
    na_values: tuple[str, ...] = ()
    """Cell values that mean "missing" besides empty cells (nothing else does: ``NA``, ``None`` or
    ``null`` are read as text unless listed here); the import report counts every such cell."""
    keep: str = "last"
    priorities: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    default_type: str | None = None
    drop_incomplete: bool = False
    """Drop (and count) rows whose opening time or priority is empty instead of failing."""
    separator: str | None = None
    """The CSV field separator (one character); ``None``: a tab for ``.tsv`` files, else a comma."""
    encoding: str = "utf-8"
    """The text encoding of CSV files (a byte-order mark is skipped)."""
    source: str = "<mapping>"

    def __post_init__(self) -> None:
        src = self.source
        for role in _COLUMN_ROLES:
            value = getattr(self, role)
            required = role in ("opened_at", "priority")
            if (value is None and required) or (value is not None and (not isinstance(value, str) or not value)):
                raise MappingError(
                    f"columns.{role}: invalid value {preview(value)}; expected a column name", source=src
                )
        if self.keep not in ("last", "first"):
            raise MappingError(f"keep: invalid value {preview(self.keep)}; allowed: last, first", source=src)
        if self.timestamp_format is not None and not isinstance(self.timestamp_format, str):
            raise MappingError(
                f"timestamp_format: invalid value {preview(self.timestamp_format)}; expected text", source=src
            )
        if (
            isinstance(self.na_values, str)
            or not isinstance(self.na_values, Sequence)
            or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in self.na_values)
        ):
            raise MappingError(
                f"na_values: invalid value {preview(self.na_values)}; expected a list of strings", source=src
            )
        object.__setattr__(self, "na_values", tuple(str(v) for v in self.na_values))
        if self.separator is not None and (not isinstance(self.separator, str) or len(self.separator) != 1):
            raise MappingError(
                f"separator: invalid value {preview(self.separator)}; expected one character such as ',' ';' or '\\t'",
                source=src,
            )
        if not isinstance(self.encoding, str) or not _known_encoding(self.encoding):
            raise MappingError(
                f"encoding: unknown text encoding {preview(self.encoding)}; for example utf-8, latin-1, cp1252",
                source=src,
            )
        if not isinstance(self.drop_incomplete, bool):
            raise MappingError(
                f"drop_incomplete: invalid value {preview(self.drop_incomplete)}; expected true/false", source=src
            )
        object.__setattr__(self, "priorities", self._table("priorities", self.priorities, PRIORITIES, _norm))
        object.__setattr__(self, "types", self._table("types", self.types, TICKET_TYPES, _type_key))
        if self.default_type is not None and self.default_type not in TICKET_TYPES:
            raise MappingError(
                f"default_type: unknown ticket type {preview(self.default_type)}; allowed: {', '.join(TICKET_TYPES)}",
                source=src,
            )

    def _table(self, name: str, table: object, allowed: tuple[str, ...], key: Any) -> dict[str, str]:
        if not isinstance(table, Mapping):
            raise MappingError(
                f"{name}: invalid value {preview(table)}; expected a mapping label -> name", source=self.source
            )
        out: dict[str, str] = {}
        for label, target in table.items():
            if not isinstance(target, str) or target not in allowed:
                raise MappingError(
                    f"{name}.{name_preview(label)}: unknown name {preview(target)}; allowed: {', '.join(allowed)}",
                    source=self.source,
                )
            out[key(label)] = str(target)
        return out

    @property
    def columns(self) -> dict[str, str]:
        """Role -> column name, for the roles that are set."""
        return {role: getattr(self, role) for role in _COLUMN_ROLES if getattr(self, role) is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<mapping>") -> ColumnMapping:
        """Build from plain data (the YAML layout: ``columns``, ``priorities``, ``types``...); unknown keys fail."""
        if not isinstance(data, Mapping):
            raise MappingError(f"expected a mapping of settings, got {type(data).__name__}", source=source)
        for key in data:
            if key not in _MAPPING_KEYS:
                raise MappingError(
                    f"{name_preview(key)}: unknown key; allowed keys: {', '.join(_MAPPING_KEYS)}", source=source
                )
        columns = data.get("columns", {})
        if not isinstance(columns, Mapping):
            raise MappingError(
                f"columns: invalid value {preview(columns)}; expected a mapping role -> column", source=source
            )
        for role in columns:
            if role not in _COLUMN_ROLES:
                raise MappingError(
                    f"columns.{name_preview(role)}: unknown role; allowed: {', '.join(_COLUMN_ROLES)}", source=source
                )
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k != "columns"}
        if kwargs.get("na_values") is None:
            kwargs.pop("na_values", None)
        for key in ("priorities", "types"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
        return cls(**dict(columns), **kwargs, source=source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping file through ``core.safe_yaml`` (no aliases, bounded size and depth, no
        duplicate keys); a bare name reads a shipped mapping (``uci_incident_log``)."""
        p = Path(path)
        if not p.exists() and (MAPPINGS_DIR / f"{path}.yaml").exists():
            p = MAPPINGS_DIR / f"{path}.yaml"
        if not p.exists():
            raise MappingError("file not found", source=str(path))
        try:
            data = load_yaml(p)
        except DataFileError as exc:  # too large, aliases, deep nesting, duplicate keys, not YAML...
            detail = str(exc)
            detail = detail[len(f"{p}: ") :] if detail.startswith(f"{p}: ") else detail
            raise MappingError(f"cannot read the mapping: {detail}", source=str(p)) from None
        return cls.from_dict(data if data is not None else {}, source=str(p))

    @classmethod
    def infer(cls, columns: Sequence[str]) -> ColumnMapping:
        """The default mapping for a file with standard column names: ``opened_at``, ``priority``
        (required), ``type`` or ``category``, ``resolved_at``, ``assignee``, ``ticket_id`` (if present)."""
        present = set(columns)
        category = "type" if "type" in present else ("category" if "category" in present else None)

        def col(name: str) -> str | None:
            return name if name in present else None

        return cls(
            category=category,
            resolved_at=col("resolved_at"),
            assignee=col("assignee"),
            ticket_id=col("ticket_id"),
            source="<default mapping>",
        )
