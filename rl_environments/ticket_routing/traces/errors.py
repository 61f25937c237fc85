"""The named errors of ticket-log import: each says the source, the row and the column."""

from __future__ import annotations

from rl_environments.ticket_routing.core.safe_yaml import preview


class TicketLogError(ValueError):
    """A ticket log (or its mapping) cannot be used; says where: source, row and column.

    ``row`` is the line of the file where the record starts (``unit="line"``: the header is line 1,
    blank lines and line breaks inside quoted cells count), or the 1-based data row of a table
    without lines (Parquet, an in-memory frame: ``unit="row"``).
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str = "",
        row: int | None = None,
        column: str | None = None,
        unit: str = "row",
    ) -> None:
        self.detail = detail
        self.source = source
        self.row = row
        self.column = column
        self.unit = unit
        where = [part for part in (source, f"{unit} {row}" if row is not None else "") if part]
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {detail}" if where else detail)


class LogFileError(TicketLogError):
    """The file is missing, unreadable, empty or in an unsupported format."""


class MappingError(TicketLogError):
    """The column mapping is invalid (unknown key, unknown priority or ticket type name...)."""


class MissingColumnError(TicketLogError):
    """A column named by the mapping is not in the file."""


class MissingValueError(TicketLogError):
    """A required cell (opening time, priority, ticket id) is empty."""


class DateParseError(TicketLogError):
    """A timestamp cannot be parsed with the mapping's ``timestamp_format``."""


class UnknownPriorityError(TicketLogError):
    """A priority label is not in the mapping's ``priorities`` table."""


class UnknownCategoryError(TicketLogError):
    """A category is not in the mapping's ``types`` table and no ``default_type`` is set."""


class TimeOrderError(TicketLogError):
    """A ticket is resolved before it was opened."""


class WindowError(TicketLogError):
    """A replay or fitting window is invalid or holds no tickets."""


class LimitError(LogFileError):
    """The file is larger (decompressed bytes or rows) than the import limits allow."""


class FitError(TicketLogError):
    """A scenario cannot be fitted as asked (for example a team larger than the environment allows)."""


def name_preview(name: object, limit: int = 100) -> str:
    """A key or column name for an error message: text as is (shortened), anything else as a bounded ``repr``."""
    if isinstance(name, str):
        return name if len(name) <= limit else name[: limit - 3] + "..."
    return preview(name, limit)


class InconsistentTicketError(TicketLogError):
    """With ``strict``: a per-ticket field takes different values within one ticket of an event log."""
