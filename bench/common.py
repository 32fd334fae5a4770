"""What the benchmark families share: the checkout, the interpreter, the seed examples and
modes, and helpers for subprocesses, a Streamlit server and chromium."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "scripts"
PY = sys.executable
CLI = str(Path(PY).parent / "tf-graph-inspector")
SEEDS = ("process_data", "process_data_spec", "process_variable_data")
ALL_MODES = ("eager", "numpy", "tensor", "spec", "spec-dynamic", "reduce-retracing", "xla")
APP_MODES = ("eager", "numpy", "spec", "spec-dynamic")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def wall(cmd: list[str]) -> float:
    """Seconds a command takes, run from the checkout."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def script_path(name: str) -> str:
    return str(SCRIPTS / f"{name}.py")


def script(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``bench/scripts/<name>.py`` in a new Python; its last line of output."""
    done = subprocess.run([PY, script_path(name), *args], cwd=ROOT, check=True,
                          capture_output=True, text=True, env=env)
    return done.stdout.strip().splitlines()[-1]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=900)


def saved_id(done: subprocess.CompletedProcess) -> str:
    """The run id an ``inspect --save`` printed."""
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr.split("saved run ")[1].split()[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str) -> None:
    """Until a Streamlit server answers its health check (at most about a minute)."""
    for _ in range(300):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)


@contextlib.contextmanager
def app_server(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app (``streamlit run app.py``) on a free port with ``env``, healthy; its URL and
    process. Stopped with its whole process group (its workers) afterwards."""
    port = free_port()
    server = subprocess.Popen([PY, "-m", "streamlit", "run", "app.py", "--server.headless",
                               "true", "--server.port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def chromium(playwright: Any) -> Any:
    """Debian's chromium through Playwright (its own browser download does not work here)."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def rss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss / 2**20)


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """RSS of a process and of all its descendants, MB."""
    import psutil

    process = psutil.Process(pid)
    children = sum(p.memory_info().rss for p in process.children(recursive=True))
    return process.memory_info().rss / 2**20, children / 2**20
