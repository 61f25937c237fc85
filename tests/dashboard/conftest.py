"""Fixtures for the dashboard tests: Streamlit AppTest runners for each page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "home": ROOT / "streamlit_app.py",
    "simulator": ROOT / "pages" / "1_Simulator.py",
    "analytics": ROOT / "pages" / "2_Analytics.py",
    "configuration": ROOT / "pages" / "3_Configuration.py",
}


@pytest.fixture
def page() -> Callable[[str], AppTest]:
    """``page("simulator")``: a fresh AppTest of that page (not yet run)."""

    def make(name: str) -> AppTest:
        return AppTest.from_file(str(PAGES[name]), default_timeout=120)

    return make
