"""``serve``: the hosted dashboard. Reads the operator's settings, checks everything it will
need (sign-in, store, sandbox, backend), refuses to start when any of it fails, then runs the
Streamlit app bound where the settings say, from the project's folder (its Streamlit
settings in force) whatever folder it was started from."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any, TextIO

from inspector.cli.common import EXIT_USAGE
from inspector.errors import PolicyError, ServeRefused
from inspector.hosting import identity, policy, sandbox
from inspector.jobs import backends

_ROOT = Path(__file__).resolve().parents[2]
_APP = _ROOT / "app.py"
# How long serve waits for the OIDC provider's metadata.
METADATA_TIMEOUT_S = 10.0
# What an OpenID provider's metadata must name for st.login to work.
METADATA_KEYS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def add_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--config", help=f"the settings file (default: ${policy.CONFIG_ENV})")
    serve.add_argument("--secrets", default=str(_ROOT / ".streamlit" / "secrets.toml"),
                       help="Streamlit's secrets file with the [auth] section for sign-in "
                            "(required unless the settings say [access] open = true)")
    serve.add_argument("--check", action="store_true",
                       help="check the settings, sign-in (the provider's metadata), the store "
                            "(no migration), the sandbox and the backend, then exit")


def _auth_section(path: Path) -> dict[str, Any]:
    """The secrets file's [auth] section; ServeRefused naming the file when there is none."""
    fix = ("pass --secrets the file with your [auth] section, or set [access] open = true "
           "in the settings to serve without sign-in")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ServeRefused(f"cannot read the secrets file {path}: {exc.strerror}; {fix}") from None
    try:
        section = tomllib.loads(text).get("auth")
    except tomllib.TOMLDecodeError as exc:
        raise ServeRefused(f"{path}: not valid TOML: {exc}") from None
    if not isinstance(section, dict):
        raise ServeRefused(f"{path} has no [auth] section; {fix}")
    return section


def _provider_metadata(url: str) -> None:
    """Fetch an OIDC provider's metadata; ServeRefused when it cannot be read."""
    import urllib.request  # only here: not on every command's path

    try:
        with urllib.request.urlopen(url, timeout=METADATA_TIMEOUT_S) as answer:
            metadata = json.loads(answer.read())
    except (OSError, ValueError) as exc:
        raise ServeRefused(f"cannot read the sign-in provider's metadata at {url} "
                           f"(server_metadata_url): {exc}") from None
    missing = [k for k in METADATA_KEYS if not isinstance(metadata, dict) or k not in metadata]
    if missing:
        raise ServeRefused(f"{url} (server_metadata_url) is not OpenID provider metadata: no "
                           f"{', '.join(missing)}")


def check_sign_in(settings: policy.Policy, secrets: Path) -> str:
    """What sign-in will be; ServeRefused when it would not work (the dashboard never falls
    back to an open one unless the settings say so)."""
    if settings.open_access:
        return "OPEN: no sign-in ([access] open = true), everyone is one user"
    section = _auth_section(secrets)
    try:
        identity.check_auth(section, str(secrets))
        identity.check_redirect_port(section, settings.address, settings.port, str(secrets))
    except PolicyError as exc:
        raise ServeRefused(f"sign-in is misconfigured: {exc}") from None
    for url in identity.provider_metadata_urls(section):
        _provider_metadata(url)
    return f"sign-in through {secrets}"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Every check, then exec Streamlit; PolicyError (exit 2) names what failed."""
    from inspector.store import runs  # SQLAlchemy: not for the other commands' start

    settings = policy.load(args.config)
    secrets = Path(args.secrets).resolve()
    sign_in = check_sign_in(settings, secrets)
    url, data, source = policy.store_settings(settings)
    store = runs.check_store(url, Path(data).resolve() if data else None, source)
    executor = backends.kind()  # ExecutorError (exit 2) for an unknown INSPECTOR_EXECUTOR
    if executor == "ray" and os.environ.get("RAY_ADDRESS"):
        from inspector.jobs.ray_backend import check_reachable

        check_reachable(os.environ["RAY_ADDRESS"])  # ExecutorError names the address
    try:
        sandbox.detect("bwrap")
    except sandbox.SandboxUnavailable as exc:
        err.write(f"error: the hosted dashboard refuses to start without its sandbox: {exc}\n")
        return EXIT_USAGE
    env = {**os.environ, sandbox.SANDBOX_ENV: "bwrap", policy.HOSTED_ENV: "1",
           policy.SECRETS_ENV: str(secrets)}
    env.pop("INSPECTOR_TEST_IDENTITY", None)  # a benchmark's hook, never on a hosted dashboard
    if settings.path:
        env[policy.CONFIG_ENV] = settings.path
    if url:
        env[runs.DB_ENV] = url
    if data:
        env[runs.DATA_ENV] = str(Path(data).resolve())
    verb = "would serve" if args.check else "serving"
    out.write(f"{verb} on http://{settings.address}:{settings.port} ({settings.workers} "
              f"worker(s) on the {executor} backend, {settings.jobs_per_user} job(s) at once per "
              f"user, sandbox on, {sign_in})\nstore: {store} (from {source})\n")
    if args.check:
        return 0
    out.flush()
    command = [sys.executable, "-m", "streamlit", "run", str(_APP), "--server.headless", "true",
               "--server.address", settings.address, "--server.port", str(settings.port),
               "--server.maxUploadSize", str(settings.max_model_mb),
               # An open dashboard reads no secrets at all (not even the project's default).
               "--secrets.files", "/dev/null" if settings.open_access else str(secrets)]
    os.chdir(_ROOT)  # Streamlit reads .streamlit/config.toml from its working folder
    os.execve(sys.executable, command, env)
    return 0  # not reached
