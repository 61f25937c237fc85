"""Real ticket logs: import a ticket history, replay it, and fit a scenario to it.

A :class:`TicketLog` reads a CSV (also gzipped or inside a ``.zip``) or Parquet file through a
:class:`ColumnMapping` (which column holds the opening time, the priority, the category...,
and how labels translate into the environment's priorities and ticket types). Event logs with
one row per update reduce to one row per ticket. Every problem raises a named
:class:`TicketLogError` subclass that says the source, the line of the file (or the data row of
a Parquet file or an in-memory table) and the column; imports are bounded in rows and bytes.

``TicketLog.replay(start, end)`` turns a window of the log into an :class:`ArrivalTrace` aligned to
the hour of the week; ``fit_scenario(log)`` estimates an :class:`EnvironmentConfig` from it.

Modules: ``errors`` (the named errors), ``mapping`` (the column mapping), ``reading`` (files to
tables, within limits), ``xes`` (XES event logs), ``times`` (timestamps and time zones),
``importing`` (tables to one row per ticket), ``events`` (event logs: rows to tickets), ``log``
(the log and its replay windows), ``fitting`` (a scenario from a log), ``team`` (team, shifts,
effort and warnings of a fit), ``check`` (a fit held against its log), ``report`` (the fit PNG),
``inspection`` (a first look at a file and a mapping skeleton).

>>> import pandas as pd
>>> frame = pd.DataFrame({"opened_at": ["2024-01-01 09:30", "2024-01-01 10:15"], "priority": ["high", "low"]})
>>> log = TicketLog.from_frame(frame)
>>> len(log), log.replay().start_hour_of_week
(2, 9)
"""

from __future__ import annotations

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.traces.check import check_fit
from rl_environments.ticket_routing.traces.errors import (
    DateParseError,
    FitError,
    InconsistentTicketError,
    LimitError,
    LogFileError,
    MappingError,
    MissingColumnError,
    MissingValueError,
    TicketLogError,
    TimeOrderError,
    UnknownCategoryError,
    UnknownPriorityError,
    WindowError,
)
from rl_environments.ticket_routing.traces.fitting import (
    ScenarioFit,
    active_window,
    estimate_scenario,
    fit_scenario,
    offline_backlog,
)
from rl_environments.ticket_routing.traces.importing import ImportReport
from rl_environments.ticket_routing.traces.inspection import LogInspection, inspect_log
from rl_environments.ticket_routing.traces.log import ReplayWindow, TicketLog, hour_of_week, load_replay
from rl_environments.ticket_routing.traces.mapping import MAPPINGS_DIR, ColumnMapping
from rl_environments.ticket_routing.traces.reading import ReadLimits
from rl_environments.ticket_routing.traces.team import TeamFit

__all__ = [
    "MAPPINGS_DIR",
    "ArrivalTrace",
    "ColumnMapping",
    "DateParseError",
    "FitError",
    "ImportReport",
    "InconsistentTicketError",
    "LimitError",
    "LogFileError",
    "LogInspection",
    "MappingError",
    "MissingColumnError",
    "MissingValueError",
    "ReadLimits",
    "ReplayWindow",
    "ScenarioFit",
    "TeamFit",
    "TicketLog",
    "TicketLogError",
    "TimeOrderError",
    "UnknownCategoryError",
    "UnknownPriorityError",
    "WindowError",
    "active_window",
    "check_fit",
    "estimate_scenario",
    "fit_scenario",
    "hour_of_week",
    "inspect_log",
    "load_replay",
    "offline_backlog",
]
