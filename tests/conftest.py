"""Shared fixtures. TensorFlow's log settings must be in place before anything imports it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from inspector.engine import tf_log
from tests.helpers import ROOT

# Saved runs of every test (the app saves each inspection) go to a folder of this session's,
# never to the user's own store.
TEST_DATA = os.environ.get("INSPECTOR_TEST_DATA") or tempfile.mkdtemp(prefix="inspector-test-data-")
os.environ["INSPECTOR_TEST_DATA"] = os.environ["INSPECTOR_DATA"] = TEST_DATA
# Also when pytest stops before the session (a bad option): sessionfinish does not run then.
atexit.register(shutil.rmtree, TEST_DATA, ignore_errors=True)
# The app server's output while a module's tests ran (the "server" fixture's).
SERVER_LOG = ROOT / "tests" / "artifacts" / "server.log"
# What of ours was in the temp directory before the session (a crashed earlier run's).
BEFORE = {p.name for p in Path(tempfile.gettempdir()).glob("inspector-*")}
os.environ.pop("INSPECTOR_DB", None)
tf_log.set_environment()

@pytest.fixture(scope="session")
def executor():
    """Two pre-started workers shared by the tests that need isolation."""
    from inspector.jobs.local import LocalExecutor

    with LocalExecutor(workers=2) as pool:
        yield pool


@pytest.fixture(scope="module")
def server():
    """The app (``streamlit run app.py``) on a free port, in local mode, for a module's tests."""
    import subprocess
    import sys

    from tests.helpers import free_port, stop_group, wait_for

    port = free_port()
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(SERVER_LOG, "wb") as log:  # what the server said, for the tests that read it
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/_stcore/health")
        yield url
    finally:
        stop_group(process)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (Playwright's own browser download is not used)."""
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the session (tests/postgres.py)."""
    from postgres import server

    with server() as url:
        yield url


def _left_by_session() -> list[str]:
    """Folders of ours in the temp directory that this session made and nothing alive owns."""
    import psutil

    left = []
    for path in Path(tempfile.gettempdir()).glob("inspector-*"):
        try:
            pid = int((path / "owner").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            pid = None
        if path.name in BEFORE or (pid not in (None, os.getpid()) and psutil.pid_exists(pid)):
            continue  # not this session's, or a live process's (a dashboard beside the suite)
        left.append(path.name)
    return left


def pytest_sessionfinish(session, exitstatus):
    """Nothing of ours stays in the temp directory: the session's store goes, and every pool,
    job or server folder the suite made must be gone by now (a server stopped a moment ago may
    still be removing its own: they get a few seconds)."""
    import gc
    import time

    from inspector.jobs.local import LocalExecutor

    # Pools this process still holds (the app tests' cached pool: Streamlit never releases
    # it) would close at exit; close them now so the check below sees the suite's own state.
    for pool in [o for o in gc.get_objects() if isinstance(o, LocalExecutor)]:
        pool.close()
    shutil.rmtree(TEST_DATA, ignore_errors=True)
    deadline = time.monotonic() + 20
    left = _left_by_session()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _left_by_session()
    if left and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nleft in the temp directory by this test session: {sorted(left)}")
