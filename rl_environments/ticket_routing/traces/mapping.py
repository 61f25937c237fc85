"""The column mapping: where the fields of a ticket live in a log, and how its labels translate."""

from __future__ import annotations

import codecs
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES
from rl_environments.ticket_routing.core.safe_yaml import DataFileError, load_yaml, preview
from rl_environments.ticket_routing.traces.errors import MappingError, name_preview

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "config" / "mappings"


def _known_encoding(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _known_zone(name: str) -> bool:
    if name == "keep":
        return True
    try:
        pd.Timestamp("2024-01-01", tz=name)
    except Exception:  # zoneinfo / pytz raise several types for unknown names
        return False
    return True


def normalize_label(label: object) -> str:
    """``label`` as a lookup key: trimmed and case-folded (``" High "`` -> ``"high"``)."""
    return str(label).strip().casefold()


def type_key(label: object) -> str:
    """A ticket-type key: :func:`normalize_label` with spaces and hyphens as underscores."""
    return normalize_label(label).replace(" ", "_").replace("-", "_")


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
    "fields",
    "resolved_when",
    "working_when",
    "timezone",
    "default_priority",
)
RULES = ("first", "last", "last_non_empty", "min", "max")
"""Where a ticket's field comes from among its rows: the first or last row (in ``order_by`` or file
order), the last row where it is not empty, or the smallest / largest value."""
FIELD_ROLES = ("opened_at", "priority", "category", "resolved_at", "assignee")


@dataclass(frozen=True)
class ColumnMapping:
    """Where the fields of a ticket live in a log, and how its labels translate.

    ``opened_at`` is a required column, and ``priority`` unless ``default_priority`` is set; the
    others are optional (``None``). With ``ticket_id`` set, rows are events of tickets: each field
    comes from one of its rows by its rule in ``fields`` (:data:`RULES`; default ``opened_at``:
    ``min``, the earliest event, and ``keep`` for the others: the ticket's ``last`` or ``first`` row,
    in file order or ordered by ``order_by``), and ``resolved_when`` can make the resolution time the
    time of the ``first`` or ``last`` event whose ``column`` holds one of ``values``. ``priorities`` maps labels to
    :data:`PRIORITIES` names and ``types`` maps categories to :data:`TICKET_TYPES` names (both
    case-insensitive; empty tables accept the names themselves). Categories missing from ``types``
    (or empty) get ``default_type``, or raise :class:`UnknownCategoryError` when it is ``None``.
    Without a category column every ticket is ``default_type`` (``technical`` if unset).
    """

    opened_at: str = "opened_at"
    priority: str | None = "priority"
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
    fields: Mapping[str, str] = field(default_factory=dict)
    """Event logs: role -> rule (:data:`RULES`) for the roles of :data:`FIELD_ROLES`."""
    resolved_when: Mapping[str, Any] | None = None
    """Event logs: ``{column: ..., values: [...], take: first | last}``; the resolution time is the
    event time (the ``opened_at`` column) of the first / last matching event (default ``last``)."""
    working_when: Mapping[str, Any] | None = None
    """Event logs: ``{column: ..., values: [...]}``; a ticket is being worked on from each event whose
    ``column`` holds one of ``values`` (a status such as ``In Progress``) until its next event. The
    summed hours estimate the service effort (see :mod:`.team`)."""
    timezone: str = "keep"
    """``keep``: times with a UTC offset keep their wall-clock time (the offset is dropped); a zone
    name (``UTC``, ``Europe/Berlin``): times with an offset are converted to that zone's wall-clock
    time and times without one are taken as already in it."""
    default_priority: str | None = None
    """The priority of every ticket when there is no priority column (``columns.priority: null``)."""
    source: str = "<mapping>"

    def __post_init__(self) -> None:
        src = self.source
        for role in _COLUMN_ROLES:
            value = getattr(self, role)
            required = role == "opened_at" or (role == "priority" and self.default_priority is None)
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
        self._check_events()
        object.__setattr__(self, "priorities", self._table("priorities", self.priorities, PRIORITIES, normalize_label))
        object.__setattr__(self, "types", self._table("types", self.types, TICKET_TYPES, type_key))
        if self.default_type is not None and self.default_type not in TICKET_TYPES:
            raise MappingError(
                f"default_type: unknown ticket type {preview(self.default_type)}; allowed: {', '.join(TICKET_TYPES)}",
                source=src,
            )

    def _check_events(self) -> None:
        src = self.source
        if self.default_priority is not None and self.default_priority not in PRIORITIES:
            raise MappingError(
                f"default_priority: unknown priority {preview(self.default_priority)}; "
                f"allowed: {', '.join(PRIORITIES)}",
                source=src,
            )
        if not isinstance(self.fields, Mapping):
            raise MappingError(f"fields: invalid value {preview(self.fields)}; expected role -> rule", source=src)
        for role, rule in self.fields.items():
            if role not in FIELD_ROLES:
                raise MappingError(
                    f"fields.{name_preview(role)}: unknown role; allowed: {', '.join(FIELD_ROLES)}", source=src
                )
            if rule not in RULES:
                raise MappingError(
                    f"fields.{role}: invalid rule {preview(rule)}; allowed: {', '.join(RULES)}", source=src
                )
        object.__setattr__(self, "fields", dict(self.fields))
        if (self.fields or self.resolved_when is not None) and self.ticket_id is None:
            raise MappingError("fields and resolved_when need columns.ticket_id (an event log)", source=src)
        when = self.resolved_when
        if when is not None:
            if not isinstance(when, Mapping) or set(when) - {"column", "values", "take"} or "column" not in when:
                raise MappingError(
                    f"resolved_when: invalid value {preview(when)}; expected column, values and take (first or last)",
                    source=src,
                )
            values = when.get("values")
            if isinstance(values, str) or not isinstance(values, Sequence) or not values:
                raise MappingError(
                    f"resolved_when.values: invalid value {preview(values)}; expected a list", source=src
                )
            if not isinstance(when["column"], str) or not when["column"]:
                raise MappingError(f"resolved_when.column: invalid value {preview(when['column'])}", source=src)
            if when.get("take", "last") not in ("first", "last"):
                raise MappingError(
                    f"resolved_when.take: invalid value {preview(when.get('take'))}; allowed: first, last", source=src
                )
            if self.resolved_at is not None:
                raise MappingError("give either columns.resolved_at or resolved_when, not both", source=src)
            object.__setattr__(
                self,
                "resolved_when",
                {
                    "column": when["column"],
                    "values": tuple(normalize_label(v) for v in values),
                    "take": when.get("take", "last"),
                },
            )
        work = self.working_when
        if work is not None:
            values = work.get("values") if isinstance(work, Mapping) else None
            if (
                not isinstance(work, Mapping)
                or set(work) != {"column", "values"}
                or not isinstance(work["column"], str)
                or isinstance(values, str)
                or not isinstance(values, Sequence)
                or not values
            ):
                raise MappingError(
                    f"working_when: invalid value {preview(work)}; expected column and a list of values", source=src
                )
            if self.ticket_id is None:
                raise MappingError("working_when needs columns.ticket_id (an event log)", source=src)
            object.__setattr__(
                self, "working_when", {"column": work["column"], "values": tuple(normalize_label(v) for v in values)}
            )
        if not isinstance(self.timezone, str) or not _known_zone(self.timezone):
            raise MappingError(
                f"timezone: unknown time zone {preview(self.timezone)}; use keep, UTC or a name such as Europe/Berlin",
                source=src,
            )

    def rule(self, role: str) -> str:
        """Where ``role`` comes from among a ticket's rows (:data:`RULES`)."""
        return self.fields.get(role, "min" if role == "opened_at" else self.keep)

    @property
    def read_columns(self) -> list[str]:
        """Every column the import reads (the roles' columns, ``resolved_when`` and ``working_when``)."""
        names = list(self.columns.values())
        for when in (self.resolved_when, self.working_when):
            if when is not None:
                names.append(when["column"])
        return list(dict.fromkeys(names))

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
        for key in ("priorities", "types", "fields"):
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
    def infer_xes(cls, columns: Sequence[str]) -> ColumnMapping:
        """The default mapping of an XES log: case ``case:concept:name``, opened at the first event's
        ``time:timestamp``, resolved at the last event whose ``lifecycle:transition`` is ``complete``
        (or simply the last event), assignee ``org:resource``; priority and category from
        ``case:priority`` / ``case:category`` (or event attributes ``priority`` / ``category``) when present,
        else every ticket is ``medium`` and ``technical``."""
        present = set(columns)

        def first_of(*names: str) -> str | None:
            return next((n for n in names if n in present), None)

        priority = first_of("case:priority", "priority")
        lifecycle = "lifecycle:transition" in present
        return cls(
            ticket_id="case:concept:name",
            opened_at="time:timestamp",
            priority=priority,
            default_priority=None if priority else "medium",
            category=first_of("case:category", "category"),
            default_type="technical",
            assignee=first_of("org:resource"),
            resolved_at=None if lifecycle else "time:timestamp",
            fields={} if lifecycle else {"resolved_at": "max"},
            resolved_when={"column": "lifecycle:transition", "values": ["complete"], "take": "last"}
            if lifecycle
            else None,
            source="<default XES mapping>",
        )

    @classmethod
    def infer(cls, columns: Sequence[str]) -> ColumnMapping:
        """The default mapping for a file with standard column names: ``opened_at``, ``priority``
        (required), ``type`` or ``category``, ``resolved_at``, ``assignee``, ``ticket_id`` (if present)."""
        present = set(columns)
        if {"case:concept:name", "time:timestamp"} <= present:
            return cls.infer_xes(columns)
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
