"""kill -9 of the dashboard's server while three jobs run: no worker is left, the runs show as
interrupted, and the server starts again on the same store."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import ROOT
from tests.test_signin import _port, _wait

pytestmark = pytest.mark.browser


def _serve(data, port: int) -> subprocess.Popen:
    env = {**os.environ, "INSPECTOR_DATA": str(data), "INSPECTOR_WORKERS": "2"}
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.headless", "true", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _statuses(data) -> dict[str, str]:
    with sqlite3.connect(data / "runs.db") as db:
        return dict(db.execute("SELECT id, status FROM runs"))


def test_kill_9_of_the_server_leaves_no_worker_and_interrupted_runs(tmp_path):
    from playwright.sync_api import sync_playwright

    data, port = tmp_path / "data", _port()
    server = _serve(data, port)
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            _wait(url + "/_stcore/health")
            pages = [browser.new_page() for _ in range(3)]
            for page in pages:  # three jobs long enough to be killed mid-way
                page.goto(url + "/?entry=resnet50&mode=numpy&mode=spec&mode=spec-dynamic")
                page.get_by_role("button", name="Inspect").click()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (
                    list(_statuses(data).values()).count("running") < 3 if
                    (data / "runs.db").exists() else True):
                time.sleep(0.5)
            assert list(_statuses(data).values()) == ["running"] * 3
            workers = psutil.Process(server.pid).children(recursive=True)
            assert workers, "the pool's workers run under the server"
            server.send_signal(signal.SIGKILL)
            server.wait()
            gone, alive = psutil.wait_procs(workers, timeout=15)
            assert not alive, f"left behind: {[w.cmdline()[:3] for w in alive]}"
            server = _serve(data, port)
            _wait(url + "/_stcore/health")
            page = browser.new_page()
            page.goto(url + "/history")
            page.get_by_text("Created between").wait_for(timeout=120_000)
            page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=30_000)
            statuses = _statuses(data)
            assert list(statuses.values()) == ["interrupted"] * 3
            assert all(run in (page.locator("[data-testid=stDataFrame]").first.text_content()
                               or "") for run in statuses)
        finally:
            browser.close()
            server.kill()
            server.wait()
