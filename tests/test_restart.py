"""kill -9 of the dashboard's server while three jobs run: no worker is left, the runs show as
interrupted, and the server starts again on the same store."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import ROOT, free_port, wait_for

pytestmark = pytest.mark.browser


def _serve(data, port: int) -> subprocess.Popen:
    env = {**os.environ, "INSPECTOR_DATA": str(data), "INSPECTOR_WORKERS": "2"}
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.headless", "true", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _statuses(data) -> dict[str, str]:
    if not (data / "runs.db").exists():
        return {}
    try:
        with sqlite3.connect(data / "runs.db") as db:
            return dict(db.execute("SELECT id, status FROM runs"))
    except sqlite3.OperationalError:  # the server is still creating the schema
        return {}


def _pool_folders(pid: int) -> list[Path]:
    """The temp folders of the pools a process owned (their owner file names it)."""
    return [owner.parent for owner in Path(tempfile.gettempdir()).glob("inspector-*/owner")
            if owner.read_text().split()[1:] == [str(pid)]]


def test_kill_9_of_the_server_leaves_no_worker_and_interrupted_runs(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    data, port = tmp_path / "data", free_port()
    server = _serve(data, port)
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            wait_for(url + "/_stcore/health")
            pages = [browser.new_page() for _ in range(3)]
            # Three jobs long enough to be killed mid-way (big arrays, five modes). The pages load
            # before any job runs: chromium shares these 2 cores with the workers, and its tabs
            # render slowly once they are busy.
            query = "&".join(["entry=process_data", "call=float32[4000,4000]", *(
                f"mode={m}" for m in ("numpy", "tensor", "spec", "spec-dynamic",
                                      "reduce-retracing"))])
            for page in pages:
                page.goto(f"{url}/?{query}", timeout=120_000)
                page.get_by_role("button", name="Inspect").wait_for(timeout=120_000)
            for page in pages:
                page.get_by_role("button", name="Inspect").click(no_wait_after=True,
                                                                  timeout=120_000)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and \
                    list(_statuses(data).values()).count("running") < 3:
                time.sleep(0.5)
            assert list(_statuses(data).values()) == ["running"] * 3
            workers = psutil.Process(server.pid).children(recursive=True)
            assert workers, "the pool's workers run under the server"
            killed = server.pid
            server.send_signal(signal.SIGKILL)
            server.wait()
            left = _pool_folders(killed)
            assert left, "the killed server's pool folder (its job folders) is still there"
            gone, alive = psutil.wait_procs(workers, timeout=15)
            assert not alive, f"left behind: {[w.cmdline()[:3] for w in alive]}"
            server = _serve(data, port)
            wait_for(url + "/_stcore/health")
            # Wide enough that the grid draws every column (it only renders those on screen).
            page = browser.new_page(viewport={"width": 2400, "height": 900})
            page.goto(url + "/history")
            page.get_by_text("Created between").wait_for(timeout=120_000)
            page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=30_000)
            statuses = _statuses(data)
            assert list(statuses.values()) == ["interrupted"] * 3
            table = page.locator("[data-testid=stDataFrame]").first
            for run in statuses:  # History shows them (the grid fills in after it appears)
                expect(table).to_contain_text(run, timeout=60_000)
            expect(table).to_contain_text("interrupted")
            # The new server's pool, once started, removes the killed one's folders.
            page.goto(url)
            page.get_by_role("button", name="Inspect").wait_for(timeout=120_000)
            assert not any(folder.exists() for folder in left), left
        finally:
            browser.close()
            server.kill()
            server.wait()
