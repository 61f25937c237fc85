"""Fixtures for the dashboard tests: Streamlit AppTest runners for each page, run through the router."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rl_environments.ticket_routing.dashboard.ui import HOME
from rl_environments.ticket_routing.dashboard.ui import PAGES as APP_PAGES

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app.py"
PAGES = {title.lower(): path for path, title, *_ in (HOME, *APP_PAGES)}
"""``"home"``, ``"simulator"``, ``"analytics"``, ``"configuration"`` -> path relative to the router."""


@pytest.fixture
def page() -> Callable[[str], AppTest]:
    """``page("simulator")``: an AppTest of ``streamlit_app.py`` whose next ``run()`` shows that page.

    Every page runs inside the router, as in the browser, so the shared sidebar line is there too.
    The router runs once first (it opens on Home): ``switch_page`` needs the pages it registers.
    """

    def make(name: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        if name != "home":
            at.run()
            at.switch_page(PAGES[name])
        return at

    return make
