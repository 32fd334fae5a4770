"""The operator's policy: one TOML file (``INSPECTOR_CONFIG``) for a hosted dashboard.

Every key is checked when the server starts; a wrong key or value stops it with a message
naming the key. Without a file, the local defaults apply (one user, everything allowed).

    [workers]
    count = 2               # worker processes (each ~1 GB)
    jobs_per_user = 1       # jobs one user may have running at once; users are served in turn
    max_timeout_s = 600     # the highest time limit a user may pick
    max_memory_mb = 8192    # the highest memory limit a user may pick
    [inputs]
    pasted_code = true      # false: only the gallery and the operator's files
    files = "/srv/inspector/functions"  # a folder of .py files offered beside the gallery
    [access]
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
from typing import Any

from inspector.errors import UsageError

CONFIG_ENV = "INSPECTOR_CONFIG"


class PolicyError(UsageError):
    """The settings file is missing, unreadable, or has a wrong key or value."""


@dataclass(frozen=True)
class Policy:
    """What the operator allows; the defaults are local single-user mode."""

    workers: int = 1
    jobs_per_user: int = 1
    max_timeout_s: float = 600.0
    max_memory_mb: int = 16384
    pasted_code: bool = True
    # A folder whose .py files users may pick like gallery entries (None: none offered).
    files_dir: str | None = None
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
    ("workers", "max_timeout_s"): ("max_timeout_s", _positive_number, "a number of seconds > 0"),
    ("workers", "max_memory_mb"): ("max_memory_mb", lambda v: _positive_int(v) and v >= 512,
                                   "an integer of at least 512"),
    ("inputs", "pasted_code"): ("pasted_code", lambda v: isinstance(v, bool), "true or false"),
    ("inputs", "files"): ("files_dir", lambda v: _text(v) and Path(v).is_dir(),
                          "a folder that exists (of .py files)"),
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
    return Policy(**values, path=path)


def load(path: str | None = None) -> Policy:
    """The policy from ``path`` or $INSPECTOR_CONFIG; the local defaults without either."""
    path = path or os.environ.get(CONFIG_ENV)
    if not path:
        return Policy()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the settings file {path}: {exc.strerror}; set "
                          f"{CONFIG_ENV} to an inspector.toml") from None
    return parse(text, path)
