"""Home: what the environment models, the configuration in use and links to the other pages."""

from __future__ import annotations

import streamlit as st

from rl_environments.ticket_routing.dashboard.ui import PAGES, active_config, config_glance

config = active_config()

st.title("Support ticket routing · TicketRouting-v0")
st.markdown(
    """
Every support ticket of a B2B SaaS team (technical, billing, feature request, bug report or
integration; critical, high, medium or low priority) must be given to one of the human agents.
Agents differ in expertise per ticket type, work several tickets at once and go on and off shift.
**TicketRouting-v0** is a Gymnasium environment in which a policy makes that choice, ticket by
ticket, and is scored on resolution time, SLA compliance, customer satisfaction and how evenly
the work is spread.

This dashboard lets you watch the simulation step by step, compare routing rules over many
episodes, and change the scenario.
"""
)

st.subheader("Current configuration")
config_glance(config)

st.subheader("Pages")
for path, label, text in PAGES:
    st.page_link(path, label=label)
    st.caption(text)
