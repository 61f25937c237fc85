"""Helpers behind the Streamlit dashboard (``streamlit_app.py`` and ``app_pages/``).

The pages only render; these modules hold the session state, the configuration form model and the
analytics runs, all built on the package's public API. Importing this package does not import
Streamlit; :mod:`.ui` does.
"""

from __future__ import annotations

from rl_environments.ticket_routing.dashboard.config_form import (
    ConfigField,
    config_fields,
    config_from_widgets,
    parse_config_upload,
    widget_values,
)
from rl_environments.ticket_routing.dashboard.session import (
    CONFIG_KEY,
    SimulatorSession,
    StepRecord,
    current_config,
    set_config,
)

__all__ = [
    "CONFIG_KEY",
    "ConfigField",
    "SimulatorSession",
    "StepRecord",
    "config_fields",
    "config_from_widgets",
    "current_config",
    "parse_config_upload",
    "set_config",
    "widget_values",
]
