"""``serve``: the hosted dashboard. Reads the operator's settings, refuses to start without the
sandbox, then runs the Streamlit app bound where the settings say."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path
from typing import TextIO

from inspector.cli.common import EXIT_USAGE
from inspector.hosting import identity, policy, sandbox
from inspector.jobs import backends
from inspector.store import runs

_APP = Path(__file__).resolve().parents[2] / "app.py"


def add_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--config", help=f"the settings file (default: ${policy.CONFIG_ENV})")
    serve.add_argument("--secrets", default=str(_APP.parent / ".streamlit" / "secrets.toml"),
                       help="Streamlit's secrets file; its [auth] section turns sign-in on")
    serve.add_argument("--check", action="store_true",
                       help="check the settings and the sandbox, then exit without serving")


def _auth_section(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("auth")
    except tomllib.TOMLDecodeError as exc:
        raise policy.PolicyError(f"{path}: not valid TOML: {exc}") from None
    return section if isinstance(section, dict) else None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = policy.load(args.config)  # PolicyError (exit 2) names the key
    auth = _auth_section(Path(args.secrets))
    if auth is not None:
        try:
            identity.check_auth(auth, args.secrets)
        except ValueError as exc:
            err.write(f"error: sign-in is misconfigured: {exc}\n")
            return EXIT_USAGE
    executor = backends.kind()  # ExecutorError (exit 2) for an unknown INSPECTOR_EXECUTOR
    if executor == "ray" and os.environ.get("RAY_ADDRESS"):
        from inspector.jobs.ray_backend import check_reachable

        check_reachable(os.environ["RAY_ADDRESS"])  # ExecutorError names the address
    try:
        sandbox.detect("bwrap")
    except sandbox.SandboxUnavailable as exc:
        err.write(f"error: the hosted dashboard refuses to start without its sandbox: {exc}\n")
        return EXIT_USAGE
    env = {**os.environ, sandbox.SANDBOX_ENV: "bwrap"}
    if settings.path:
        env[policy.CONFIG_ENV] = str(Path(settings.path).resolve())
    if settings.store_url:
        env[runs.DB_ENV] = settings.store_url
    if settings.data_dir:
        env[runs.DATA_ENV] = settings.data_dir
    out.write(f"serving on http://{settings.address}:{settings.port} ({settings.workers} "
              f"worker(s) on the {executor} backend, {settings.jobs_per_user} job(s) at once per "
              "user, sandbox on, "
              f"{'sign-in through ' + args.secrets if auth else 'no sign-in: local mode'})\n")
    if args.check:
        return 0
    out.flush()
    command = [sys.executable, "-m", "streamlit", "run", str(_APP), "--server.headless", "true",
               "--server.address", settings.address, "--server.port", str(settings.port),
               "--secrets.files", args.secrets]
    os.execve(sys.executable, command, env)
    return 0  # not reached
