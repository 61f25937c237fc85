"""The named errors of ticket-log import: each says the source, the row and the column."""

from __future__ import annotations


class TicketLogError(ValueError):
    """A ticket log (or its mapping) cannot be used; says where: source, row and column."""

    def __init__(self, detail: str, *, source: str = "", row: int | None = None, column: str | None = None) -> None:
        self.detail = detail
        self.source = source
        self.row = row
        self.column = column
        where = [part for part in (source, f"row {row}" if row is not None else "") if part]
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
