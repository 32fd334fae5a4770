"""The operator's policy: one TOML file for a hosted dashboard and every command.

Where settings come from, first match wins, for ``serve``, ``inspect --save`` and
``history`` alike: the file given by ``--config``, else by ``INSPECTOR_CONFIG``; then the
environment (``INSPECTOR_DB``, ``INSPECTOR_DATA``); then the defaults (local single-user
mode, a SQLite store in the data folder). Every key is checked when it is read; a wrong key or
value stops the command with a message naming the key.

    [workers]
    count = 2               # worker processes (each ~1 GB)
    spares = 1              # warm workers kept beside them, so a job never waits for an
                            # import (each ~1 GB; 0: none; skipped while memory is short)
    jobs_per_user = 1       # jobs one user may have running at once; users are served in turn
    max_timeout_s = 600     # the highest time limit a user may pick
    max_memory_mb = 8192    # the highest memory limit a user may pick
    [inputs]
    pasted_code = true      # false: only the gallery and the operator's files
    files = "/srv/inspector/functions"  # a folder of .py files (and models) offered beside
                                        # the gallery
    max_model_mb = 200      # the largest model a user may upload (with pasted_code)
    [access]
    open = false            # true: no sign-in at all, anyone who reaches it uses it (say so)
    allowed_domains = ["example.com"]   # signed-in emails in these domains may use it
    allowed_users = ["guest@gmail.com"] # and these emails
    admins = ["lead@example.com"]       # may delete any run and change its visibility
    [store]
    url = "postgresql+psycopg://inspector@db/inspector"   # INSPECTOR_DB
    data = "/var/lib/tf-graph-inspector"                   # INSPECTOR_DATA
    [retention]
    keep_days = 30
    max_gb = 20
    [server]
    address = "0.0.0.0"
    port = 8501
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.errors import PolicyError

if TYPE_CHECKING:
    from inspector.store.runs import RunStore

CONFIG_ENV = "INSPECTOR_CONFIG"
# Set by ``serve`` for the app's process: this is a hosted dashboard (it fails closed without a
# working sign-in unless ``[access] open = true``), and where its secrets file is (the sandbox
# covers it).
HOSTED_ENV = "INSPECTOR_HOSTED"
SECRETS_ENV = "INSPECTOR_SECRETS_FILE"


@dataclass(frozen=True)
class Policy:
    """What the operator allows; the defaults are local single-user mode."""

    workers: int = 1
    # Warm workers beside the busy ones: a job never waits for TensorFlow's import.
    spares: int = 1
    jobs_per_user: int = 1
    max_timeout_s: float = 600.0
    max_memory_mb: int = 16384
    pasted_code: bool = True
    # The operator said the dashboard needs no sign-in ([access] open = true).
    open_access: bool = False
    # A folder whose .py files users may pick like gallery entries (None: none offered).
    files_dir: str | None = None
    # The largest model (.keras, zipped SavedModel) a user may upload, MB; uploads are allowed
    # where pasted code is.
    max_model_mb: int = 200
    allowed_domains: tuple[str, ...] = ()
    allowed_users: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    store_url: str | None = None
    data_dir: str | None = None
    keep_days: float | None = None
    max_gb: float | None = None
    address: str = "127.0.0.1"
    port: int = 8501
    # Where it came from (None: defaults).
    path: str | None = field(default=None, compare=False)

    def allows(self, email: str | None) -> bool:
        """Whether a signed-in user may use the dashboard (everyone when no list is set)."""
        if not self.allowed_domains and not self.allowed_users:
            return True
        if not email:
            return False
        email = email.lower()
        return (email in {u.lower() for u in (*self.allowed_users, *self.admins)}
                or email.rsplit("@", 1)[-1] in {d.lower().lstrip("@")
                                                 for d in self.allowed_domains})

    def is_admin(self, email: str | None) -> bool:
        return email is not None and email.lower() in {a.lower() for a in self.admins}


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


# (section, key) -> (Policy field, check, what a valid value is)
_KEYS: dict[tuple[str, str], tuple[str, Callable[[Any], bool], str]] = {
    ("workers", "count"): ("workers", _positive_int, "an integer of at least 1"),
    ("workers", "jobs_per_user"): ("jobs_per_user", _positive_int, "an integer of at least 1"),
    ("workers", "spares"): ("spares", lambda v: isinstance(v, int) and not isinstance(v, bool)
                            and 0 <= v <= 8, "an integer from 0 to 8"),
    ("workers", "max_timeout_s"): ("max_timeout_s", _positive_number, "a number of seconds > 0"),
    ("workers", "max_memory_mb"): ("max_memory_mb", lambda v: _positive_int(v) and v >= 512,
                                   "an integer of at least 512"),
    ("inputs", "pasted_code"): ("pasted_code", lambda v: isinstance(v, bool), "true or false"),
    ("inputs", "files"): ("files_dir", lambda v: _text(v) and Path(v).is_dir(),
                          "a folder that exists (of .py files)"),
    ("inputs", "max_model_mb"): ("max_model_mb", lambda v: _positive_int(v) and v <= 4096,
                                 "an integer from 1 to 4096"),
    ("access", "open"): ("open_access", lambda v: isinstance(v, bool), "true or false"),
    ("access", "allowed_domains"): ("allowed_domains", _strings, "a list of domain names"),
    ("access", "allowed_users"): ("allowed_users", _strings, "a list of emails"),
    ("access", "admins"): ("admins", _strings, "a list of emails"),
    ("store", "url"): ("store_url", _text, "a SQLAlchemy URL"),
    ("store", "data"): ("data_dir", _text, "a folder path"),
    ("retention", "keep_days"): ("keep_days", _positive_number, "a number of days > 0"),
    ("retention", "max_gb"): ("max_gb", _positive_number, "a number of GB > 0"),
    ("server", "address"): ("address", _text, "an address to bind, e.g. 0.0.0.0"),
    ("server", "port"): ("port", lambda v: _positive_int(v) and v < 65536, "a port number"),
}


def parse(text: str, path: str = "inspector.toml") -> Policy:
    """A Policy from TOML text; PolicyError naming the key that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    _resolve_paths(data, Path(path).resolve().parent)
    for section, table in data.items():
        if not isinstance(table, dict):
            raise PolicyError(f"{path}: {section} must be a [section]; sections: "
                              f"{', '.join(sorted({s for s, _ in _KEYS}))}")
        for key, value in table.items():
            known = _KEYS.get((section, key))
            if known is None:
                keys = sorted(f"[{s}] {k}" for s, k in _KEYS)
                raise PolicyError(f"{path}: unknown key [{section}] {key}; known keys: "
                                  f"{', '.join(keys)}")
            name, check, wanted = known
            if not check(value):
                raise PolicyError(f"{path}: [{section}] {key} must be {wanted}, not {value!r}")
            values[name] = tuple(value) if isinstance(value, list) else value
    policy = Policy(**values, path=path)
    if policy.open_access and (policy.allowed_domains or policy.allowed_users):
        raise PolicyError(f"{path}: [access] open = true admits everyone without sign-in, "
                          "but allowed_domains or allowed_users are set: remove open to "
                          "require sign-in, or the lists to run an open dashboard")
    return policy


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative folders and SQLite files in the settings are relative to the settings file's
    folder, whichever folder a command runs from (``serve`` runs the app from the project's)."""
    for section, key in (("store", "data"), ("inputs", "files")):
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str) and value and not Path(value).is_absolute():
            data[section][key] = str(base / value)
    store = data.get("store")
    if not isinstance(store, dict):
        return
    url, prefix = store.get("url"), "sqlite:///"
    if isinstance(url, str) and url.startswith(prefix) and not url.startswith(prefix + "/") \
            and url != prefix + ":memory:":
        store["url"] = prefix + str(base / url[len(prefix):])


def load(path: str | None = None) -> Policy:
    """The policy from ``path`` (``--config``) or $INSPECTOR_CONFIG; the local defaults
    without either."""
    where = "--config" if path else CONFIG_ENV
    path = path or os.environ.get(CONFIG_ENV)
    if not path:
        return Policy()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        fix = ("pass --config an inspector.toml that exists" if where == "--config"
               else f"set {CONFIG_ENV} to an inspector.toml that exists, or unset it")
        raise PolicyError(f"cannot read the settings file {path} (from {where}): "
                          f"{exc.strerror}; {fix}") from None
    return parse(text, str(Path(path).resolve()))


def store_settings(policy: Policy) -> tuple[str | None, str | None, str]:
    """The store's URL and data folder as the settings order gives them (None: the store's
    own default), and where the URL came from, for messages: "[store] url in FILE",
    "INSPECTOR_DB" or "the default SQLite file"."""
    from inspector.store.runs import DATA_ENV, DB_ENV  # the store's names; it imports no policy

    data = policy.data_dir or os.environ.get(DATA_ENV) or None
    if policy.store_url:
        return policy.store_url, data, f"[store] url in {policy.path}"
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV], data, DB_ENV
    return None, data, "the default SQLite file"


def open_store(policy: Policy, *, maintain: bool = False, create: bool = True) -> RunStore:
    """The run store the settings name (``store_settings``'s order); StoreError naming where
    its URL came from when it cannot open (or, with ``create`` False, does not exist)."""
    from inspector.store.runs import RunStore

    url, data, source = store_settings(policy)
    # The default store may be new (a first `history list`); one the settings file or
    # INSPECTOR_DB names must exist (a mistyped path would otherwise read as "no runs").
    named = bool(policy.store_url or policy.data_dir) or source != "the default SQLite file"
    return RunStore(url, Path(data) if data else None, maintain=maintain, source=source,
                    create=create or not named)
