"""The app in a real browser (Debian's chromium through Playwright): run seed example 3."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "tests" / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        import os
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def shot(page, name: str) -> None:
    """Scroll the open tab into view (Streamlit scrolls inside its own container) and save it."""
    page.locator("[role=tabpanel]:visible").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_seed_example_three_in_a_browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server + "/?entry=process_variable_data&mode=numpy&mode=spec&mode=spec-dynamic")
        page.get_by_role("button", name="Inspect").click()
        page.get_by_role("tab", name="Matrix").wait_for(timeout=120_000)
        page.get_by_text("Constant with fixed shapes").wait_for(timeout=30_000)
        matrix = page.locator("[data-testid=stTable]").first
        for mode in ("numpy", "spec", "spec-dynamic"):
            assert mode in matrix.inner_text()
        shot(page, "matrix")
        page.get_by_role("tab", name="Graphs").click()
        page.locator("svg:visible g.node").first.wait_for(timeout=30_000)
        shot(page, "graphs")
        page.get_by_role("tab", name="Timing").click()
        page.locator(".js-plotly-plot:visible").first.wait_for(timeout=30_000)
        shot(page, "timing")
        with page.expect_download() as download:
            page.get_by_role("tab", name="Export").click()
            page.get_by_role("button", name="Download JSON report").click()
        assert download.value.suggested_filename == "process_variable_data-report.json"
        browser.close()
    assert not errors
