"""End to end: ``streamlit run streamlit_app.py`` driven by Debian's Chromium through Playwright.

Streamlit renders over a websocket after the page loads, so every wait is for a concrete element
or text. Screenshots of each page go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.evaluation import evaluate

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 90_000
SIDEBAR_PAGES = ["Home", "Simulator", "Analytics", "Configuration", "Planner"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium (make test installs it)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A headless Streamlit server of the dashboard on a free localhost port; stopped afterwards."""
    # Compile the simulation kernels here first (numba caches them on disk), so the server
    # loads them instead of compiling inside the first click.
    env = TicketRoutingEnv(EnvironmentConfig(num_agents=2, episode_length=5))
    env.reset(seed=0)
    env.step(int(env.action_masks().argmax()))
    evaluate("random", EnvironmentConfig(num_agents=2, episode_length=5), episodes=1, seed=0)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # block on the server's own output until it announces its URL
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if url in line:
                break
            if line == "":
                pytest.fail("streamlit exited before serving:\n" + "".join(output))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _nav(page: object, label: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(label, exact=True).click()  # type: ignore[attr-defined]


def _expect_sidebar(page: object, config_name: str) -> None:
    """The router's sidebar: the four pages in order (Home first, no file-name label) and the config line."""
    expect = sync_api.expect
    links = page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")  # type: ignore[attr-defined]
    expect(links).to_have_text(SIDEBAR_PAGES)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Configuration in use: {config_name}")  # type: ignore[attr-defined]


def _screenshot(page: object, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the viewport is grown to fit it."""
    height = page.evaluate(  # type: ignore[attr-defined]
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
    )
    size = page.viewport_size  # type: ignore[attr-defined]
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height))})  # type: ignore[attr-defined]
    page.screenshot(path=SCREENSHOTS / name, full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size(size)  # type: ignore[attr-defined]


def test_every_page_in_chromium(server: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    timings: dict[str, float] = {}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            # The server's first request is a deep link, in its own session: the router still runs
            # (a pages/ folder next to streamlit_app.py would make Streamlit skip it until "/" is opened).
            deep = browser.new_page(viewport={"width": 1400, "height": 1000})
            deep.set_default_timeout(TIMEOUT_MS)
            deep.goto(f"{server}/Configuration")
            expect(deep.get_by_role("heading", name="Presets")).to_be_visible()
            _expect_sidebar(deep, "balanced (default)")
            deep.close()

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)

            # Home: what the environment is and the configuration at a glance.
            page.goto(server)
            _expect_sidebar(page, "balanced (default)")
            expect(page.get_by_test_id("stSidebarNavLink").first).to_have_attribute("aria-current", "page")
            expect(page).to_have_title("Home · TicketRouting-v0")
            expect(page.get_by_role("heading", name=re.compile("TicketRouting-v0"))).to_be_visible()
            expect(page.get_by_text("Current configuration")).to_be_visible()
            expect(page.get_by_test_id("stMetric").first).to_contain_text("Agents")
            expect(page.get_by_test_id("stPageLink")).to_have_count(4)
            expect(page.get_by_test_id("stPageLink").last).to_contain_text("Planner")
            expect(page.get_by_test_id("stDataFrame").locator("canvas").first).to_be_attached()
            _screenshot(page, "home.png")

            # Configuration: a preset, a rejected upload.
            _nav(page, "Configuration")
            expect(page.get_by_role("heading", name="Presets")).to_be_visible()
            page.get_by_role("button", name="Hard", exact=True).click()
            expect(page.get_by_text("Loaded the hard preset.")).to_be_visible()
            hard_rate = EnvironmentConfig.preset("hard").arrivals.rate_per_day
            expect(page.get_by_label("rate_per_day", exact=True)).to_have_value(f"{hard_rate:g}")
            page.locator('input[type="file"]').set_input_files(
                files=[{"name": "broken.json", "mimeType": "application/json", "buffer": b'{"num_agents": }'}]
            )
            expect(page.get_by_text(re.compile(r"Import rejected.*broken\.json: not valid JSON"))).to_be_visible()
            expect(page.get_by_text(re.compile("In use: hard"))).to_be_visible()
            _expect_sidebar(page, "hard")
            _screenshot(page, "configuration.png")
            agents = page.get_by_label("num_agents", exact=True)
            agents.fill("0")
            agents.press("Enter")
            expect(page.get_by_text(re.compile(r"^Not applied: num_agents: invalid value 0"))).to_be_visible()
            _screenshot(page, "configuration_invalid.png")

            # Simulator: uses the chosen configuration; one step, then a policy run.
            _nav(page, "Simulator")
            expect(page.get_by_text("Choose the agent")).to_be_visible()
            _expect_sidebar(page, "hard")
            expect(page).to_have_title("Simulator · TicketRouting-v0")
            length = EnvironmentConfig.preset("hard").episode_length
            decisions = page.get_by_test_id("stMetric").filter(has_text="Decisions")
            expect(decisions).to_contain_text(f"0 / {length}")
            step = page.get_by_role("button", name="Step", exact=True)
            step.click()
            expect(decisions).to_contain_text(f"1 / {length}")
            expect(page.get_by_text(re.compile("took the ticket|Invalid choice"))).to_be_visible()
            start = time.perf_counter()
            step.click()
            expect(decisions).to_contain_text(f"2 / {length}")
            timings["step"] = time.perf_counter() - start
            start = time.perf_counter()
            page.get_by_role("button", name="Run N steps").click()
            expect(page.get_by_text(re.compile(r"took 100 decisions\."))).to_be_visible()
            timings["run_100"] = time.perf_counter() - start
            expect(decisions).to_contain_text(f"102 / {length}")
            expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(4)
            _screenshot(page, "simulator.png")

            # Analytics: every baseline over a few episodes.
            _nav(page, "Analytics")
            expect(page.get_by_role("heading", name="Compare policies")).to_be_visible()
            _expect_sidebar(page, "hard")
            episodes = page.get_by_label("Episodes").first
            episodes.fill("3")
            episodes.press("Enter")
            expect(episodes).to_have_value("3")
            start = time.perf_counter()
            page.get_by_role("button", name="Run", exact=True).click()
            expect(page.get_by_text("KPIs with 95% confidence intervals")).to_be_visible()
            timings["analytics_run"] = time.perf_counter() - start
            expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(7)
            expect(page.get_by_role("button", name="Download episodes (CSV)")).to_be_visible()
            _screenshot(page, "analytics.png")

            # Planner: targets in; the staffing answer, the sweep chart and its CSV out.
            _nav(page, "Planner")
            expect(page.get_by_role("heading", name="Staffing targets")).to_be_visible()
            _expect_sidebar(page, "hard")
            plan_episodes = page.get_by_label("Episodes per team size")
            plan_episodes.fill("4")
            plan_episodes.press("Enter")
            expect(plan_episodes).to_have_value("4")
            start = time.perf_counter()
            page.get_by_role("button", name="Find the team").click()
            expect(page.get_by_text(re.compile(r"^\d+ agents: the smallest team whose 95% intervals"))).to_be_visible()
            timings["planner_plan"] = time.perf_counter() - start
            expect(page.get_by_test_id("stMetric").filter(has_text="Erlang C")).to_be_visible()
            expect(page.get_by_text(re.compile("^Erlang C assumes"))).to_be_visible()
            # The what-if team sizes are centred on the answer: four either side.
            answer = int(page.get_by_test_id("stMetric").filter(has_text="Team needed").inner_text().split()[-1])
            expect(page.get_by_label("Team to", exact=True)).to_have_value(str(answer + 4))
            seeds = page.get_by_label("Seeds", exact=True)
            seeds.fill("3")
            seeds.press("Enter")
            expect(seeds).to_have_value("3")
            start = time.perf_counter()
            page.get_by_role("button", name="Run sweep").click()
            expect(page.get_by_role("button", name="Download sweep results (CSV)")).to_be_visible()
            timings["planner_sweep"] = time.perf_counter() - start
            expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)
            _screenshot(page, "planner.png")
        finally:
            browser.close()
    # Printed for people (run with -s); speed targets belong in benchmarks, not in assertions.
    print("browser timings (s):", {k: round(v, 2) for k, v in timings.items()})
