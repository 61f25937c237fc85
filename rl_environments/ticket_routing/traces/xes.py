"""Reading XES event logs (``.xes``, ``.xes.gz``), the IEEE 1849 format of process-mining tools.

One row per event: the event's attributes by key (``concept:name``, ``time:timestamp``,
``org:resource``, ``lifecycle:transition``...) and its trace's attributes as ``case:<key>``
(``case:concept:name`` is the case id), the convention of process-mining libraries. Nested
attributes (lists, containers) are skipped; rows are numbered by the line of the ``<event>`` tag.

The reader streams the file through the expat parser, within the same size and row limits as CSV
files, and refuses any document type declaration (DTD), so no entity can be declared or
expanded ("billion laughs", external entities): XES files never need one.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.traces.errors import LimitError, LogFileError
from rl_environments.ticket_routing.traces.reading import (
    DECOMPRESS_ERRORS,
    RawTable,
    ReadLimits,
    file_kind,
    memory_needed,
    open_bytes,
)

ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})
CHUNK = 1 << 16


class _Events:
    """expat handlers that collect the events of each trace."""

    def __init__(self, parser: Any, source: str, limits: ReadLimits) -> None:
        self.parser, self.source, self.limits = parser, source, limits
        self.stack: list[str] = []
        self.case: dict[str, str] = {}
        self.event: dict[str, str] | None = None
        self.pending: list[tuple[int, dict[str, str]]] = []
        self.rows: list[dict[str, str]] = []
        self.lines = array("q")
        self.keys: dict[str, None] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        self.stack.append(tag)
        if tag == "trace" and parent == "log":
            self.case, self.pending = {}, []
        elif tag == "event" and parent in ("trace", "log"):
            self.event = {}
            self.pending.append((self.parser.CurrentLineNumber, self.event))
        elif tag in ATTRIBUTE_TAGS and "key" in attrs:
            if parent == "event" and self.event is not None:
                self.event[attrs["key"]] = attrs.get("value", "")
            elif parent == "trace":
                self.case["case:" + attrs["key"]] = attrs.get("value", "")

    def end(self, tag: str) -> None:
        self.stack.pop()
        if tag == "event":
            self.event = None
            if not self.stack or self.stack[-1] == "log":
                self._flush({})
        elif tag == "trace":
            self._flush(self.case)

    def _flush(self, case: dict[str, str]) -> None:
        for line, event in self.pending:
            if len(self.rows) >= self.limits.max_rows:
                raise LimitError(
                    f"more than {self.limits.max_rows:,} events (the max_rows limit); importing a log this size "
                    f"needs {memory_needed(self.limits.max_rows, len(self.keys) or 1)}: raise the limit with "
                    "--max-rows (max_rows= in Python)",
                    source=self.source,
                )
            row = {**case, **event}
            self.keys.update(dict.fromkeys(row))
            self.rows.append(row)
            self.lines.append(line)
        self.pending = []

    def refuse_dtd(self, *_: Any) -> None:
        raise LogFileError(
            "the XES file declares a document type (DTD) or entities, which are refused (XES needs none)",
            source=self.source,
            row=self.parser.CurrentLineNumber,
            unit="line",
        )


def read_xes_table(path: Path, columns: Sequence[str] | None, limits: ReadLimits | None = None) -> RawTable:
    """The events of an XES file; ``columns`` selects attributes (``None``: all of them)."""
    limits = limits or ReadLimits()
    src = str(path)
    parser = expat.ParserCreate()
    events = _Events(parser, src, limits)
    parser.StartElementHandler = events.start
    parser.EndElementHandler = events.end
    parser.StartDoctypeDeclHandler = events.refuse_dtd
    parser.EntityDeclHandler = events.refuse_dtd
    try:
        with open_bytes(path, file_kind(path), limits) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except LogFileError:
        raise
    except expat.ExpatError as exc:
        raise LogFileError(
            f"not valid XML: {expat.ErrorString(exc.code)}", source=src, row=exc.lineno, unit="line"
        ) from None
    except DECOMPRESS_ERRORS as exc:
        raise LogFileError(f"cannot read the file (corrupt or truncated?): {exc}", source=src) from None
    if events.stack:
        raise LogFileError("the XES file ends inside an element (truncated?)", source=src)
    header = tuple(events.keys)
    names = list(header) if columns is None else list(columns)
    frame = pd.DataFrame({name: pd.Series([row.get(name) for row in events.rows], dtype=object) for name in names})
    return RawTable(frame, np.frombuffer(events.lines, dtype=np.int64), "line", header)
