"""Helpers tests share (plain functions; fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request


def shown(markdown: str) -> str:
    """What a person reads from an element's Markdown: backslash escapes undone (the app
    escapes user text so that it renders as written)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, tries: int = 300) -> None:
    """Until ``url`` answers (a server or provider starting); RuntimeError after ~30 s."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to a process started with ``start_new_session=True`` and all it started."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=timeout)
