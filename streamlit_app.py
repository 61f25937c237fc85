"""The TicketRouting-v0 dashboard: ``streamlit run streamlit_app.py`` (or ``make dashboard``).

This script only routes: it lists the pages for the sidebar (Home first), sets the page config, draws
the sidebar line every page shares and runs the selected page from ``app_pages/``. The folder is not
called ``pages/``: Streamlit would treat that as a legacy multipage app until a session first runs
``st.navigation``, so a fresh server's first deep link would skip this script.
"""

from __future__ import annotations

import streamlit as st

from rl_environments.ticket_routing.dashboard.ui import HOME, PAGES, active_config, config_in_use_line

page = st.navigation(
    [st.Page(HOME[0], title=HOME[1], default=True), *(st.Page(path, title=title) for path, title, _ in PAGES)]
)
st.set_page_config(page_title=f"{page.title} · TicketRouting-v0", layout="wide")
active_config()
# Filled after the page has run, so it names the configuration the page may just have changed.
config_line = st.sidebar.empty()
try:
    page.run()
finally:
    config_line.caption(config_in_use_line())
