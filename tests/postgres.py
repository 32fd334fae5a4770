"""A throwaway PostgreSQL server from Debian's binaries, for the store's tests.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user the
Debian package creates; otherwise as the current user. It listens on 127.0.0.1 only, on a free
port, with its socket in its own folder, and is stopped (and its folder removed) afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server() -> Iterator[str]:
    """Start a server; yields a ``postgresql+psycopg://`` URL of an empty database."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL's server binaries are missing: apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="inspector-pg-"))
    as_user: list[str] = []
    user = os.environ.get("USER", "")
    if os.geteuid() == 0:
        as_user, user = ["runuser", "-u", "postgres", "--"], "postgres"
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()

    # Connections over TCP need the password (a wrong one must fail, as on a real server).
    password = "inspector-test-pw"
    password_file = root / "password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o644)

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120,
                       env={**os.environ, "PGPASSWORD": password})

    run(str(bin_dir / "initdb"), "-D", str(data), "--auth-local=trust",
        "--auth-host=scram-sha-256", f"--pwfile={password_file}", "-U", user)
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user,
            "inspector")
        yield f"postgresql+psycopg://{user}:{password}@127.0.0.1:{port}/inspector"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
