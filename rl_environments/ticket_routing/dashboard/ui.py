"""Streamlit pieces shared by the dashboard pages (imports Streamlit)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, cast

import pandas as pd
import streamlit as st

from rl_environments.ticket_routing import PRIORITIES, EnvironmentConfig
from rl_environments.ticket_routing.dashboard.session import CONFIG_NAME_KEY, current_config

HOME: tuple[str, str] = ("app_pages/0_Home.py", "Home")
"""The default page (path relative to ``streamlit_app.py``, sidebar title)."""
PAGES: tuple[tuple[str, str, str], ...] = (
    ("app_pages/1_Simulator.py", "Simulator", "Route tickets one at a time, by hand or with a baseline policy."),
    ("app_pages/2_Analytics.py", "Analytics", "Compare policies over many episodes, with 95% confidence intervals."),
    ("app_pages/3_Configuration.py", "Configuration", "Edit every parameter, load presets, import and export."),
    ("app_pages/4_Planner.py", "Planner", "How many agents meet your SLA and CSAT targets; what-if sweeps."),
)
"""The other pages, in sidebar order: path, sidebar title, one-line description (for Home's links)."""


def active_config() -> EnvironmentConfig:
    """The configuration in use in this browser session (the defaults until the Configuration page changes it)."""
    return current_config(cast("MutableMapping[str, Any]", st.session_state))


def config_in_use_line() -> str:
    """The sidebar line naming the configuration in use."""
    return f"Configuration in use: **{st.session_state.get(CONFIG_NAME_KEY, 'custom')}**"


def config_glance(config: EnvironmentConfig) -> None:
    """The configuration at a glance: headline numbers and the SLA targets."""
    cols = st.columns(4)
    cols[0].metric("Agents", config.num_agents)
    cols[1].metric("Tickets per day", f"{config.arrivals.rate_per_day:g}")
    cols[2].metric("Decisions per episode", config.episode_length)
    cols[3].metric("Max open tickets per agent", config.max_workload)
    shifts = config.agents
    days = ", ".join(d[:3].title() for d in shifts.work_days)
    st.caption(
        f"Shifts start at {shifts.shift_start_hour:02d}:00 and last {shifts.shift_hours} h "
        f"(staggered by {shifts.shift_stagger_hours} h per agent) on {days}. "
        f"Work time is {config.service.distribution}; arrivals follow "
        f"{'a weekly profile' if config.arrivals.weekly_profile is not None else 'a flat rate'}."
    )
    frame = pd.DataFrame(
        [[f"{h:g}" for h in config.sla.resolution_hours], [f"{p:.0%}" for p in config.arrivals.priority_mix]],
        index=["SLA target (hours)", "share of tickets"],
        columns=list(PRIORITIES),
    )
    st.dataframe(frame, width="stretch")
