"""Who is using the dashboard: a signed-in user from the team's OIDC provider, or ``local``.

Runs are keyed by the provider's (``iss``, ``sub``), never by email (emails change hands);
they are shown by name or email. The ``[auth]`` section of ``.streamlit/secrets.toml`` is
checked here so a wrong key is named at start instead of failing at the first sign-in.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from inspector.errors import PolicyError

# Keys every provider needs (directly in [auth], or in each [auth.<name>]).
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
# Keys [auth] itself needs.
AUTH_KEYS = ("redirect_uri", "cookie_secret")
# Every key Streamlit 1.67 reads (streamlit/auth_util.py): anything else is a typo that would
# otherwise pass silently.
KNOWN_AUTH_KEYS = frozenset({*AUTH_KEYS, *PROVIDER_KEYS, "client_kwargs", "expose_tokens"})
KNOWN_PROVIDER_KEYS = frozenset({*PROVIDER_KEYS, "client_kwargs", "expose_tokens"})
# Hosts whose redirect_uri must name the port the dashboard serves on (any other host is a
# proxy in front of it, whose port is its own).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


@dataclass(frozen=True)
class User:
    """The person behind a session."""

    # "local" without sign-in, else "<iss>|<sub>".
    key: str
    # Name, else email, else subject: how runs show their owner.
    name: str
    email: str | None
    # Admins delete any run and change any run's visibility (local mode: the one user).
    admin: bool


LOCAL = User("local", "local", None, True)


def from_claims(claims: Mapping[str, Any], admin: bool) -> User:
    """A user from the ID token's claims (``st.user``)."""
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    email = claims.get("email")
    name = claims.get("name") or email or subject
    return User(f"{issuer}|{subject}", str(name), str(email) if email else None, admin)


def check_auth(section: Mapping[str, Any], where: str = ".streamlit/secrets.toml") -> None:
    """Raise ValueError naming the first missing or wrong key of an ``[auth]`` section."""
    for key in AUTH_KEYS:
        if not section.get(key):
            raise PolicyError(f"{where}: [auth] {key} is missing")
    for key in AUTH_KEYS:
        if not isinstance(section[key], str):
            raise PolicyError(f"{where}: [auth] {key} must be a string, not {section[key]!r}")
    if "client_kwargs" in section and not isinstance(section["client_kwargs"], Mapping):
        raise PolicyError(f"{where}: [auth] client_kwargs must be a table, e.g. "
                         "[auth.client_kwargs] prompt = \"login\"")
    tokens = section.get("expose_tokens", [])
    tokens = [tokens] if isinstance(tokens, str) else tokens
    if not isinstance(tokens, list) or not set(map(str, tokens)) <= {"id", "access"}:
        raise PolicyError(f"{where}: [auth] expose_tokens may name only \"id\" and "
                         f"\"access\", not {tokens!r}")
    if not str(section["redirect_uri"]).endswith("/oauth2callback"):
        raise PolicyError(f"{where}: [auth] redirect_uri must end in /oauth2callback, not "
                         f"{section['redirect_uri']!r}")
    providers = _provider_tables(section)
    unknown = sorted(k for k in section if k not in KNOWN_AUTH_KEYS and k not in providers)
    if unknown:
        raise PolicyError(f"{where}: unknown key [auth] {unknown[0]}; known keys: "
                         f"{', '.join(sorted(KNOWN_AUTH_KEYS))}, or [auth.<provider>] tables")
    for name, provider in providers.items():
        extra = sorted(k for k in provider if k not in KNOWN_PROVIDER_KEYS)
        if extra:
            raise PolicyError(f"{where}: unknown key [auth.{name}] {extra[0]}; known keys: "
                             f"{', '.join(sorted(KNOWN_PROVIDER_KEYS))}")
    for name, provider in _providers(section).items():
        label = f"[auth.{name}]" if name else "[auth]"
        for key in PROVIDER_KEYS:
            if not provider.get(key):
                raise PolicyError(f"{where}: {label} {key} is missing")


def _provider_tables(section: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The ``[auth.<name>]`` tables (``client_kwargs`` is a table of [auth] itself)."""
    return {name: value for name, value in section.items()
            if isinstance(value, Mapping) and name != "client_kwargs"}


def _providers(section: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each provider by name: "" for one given directly in [auth], else the named tables."""
    tables = _provider_tables(section)
    if any(key in section for key in PROVIDER_KEYS) or not tables:
        return {"": section}
    return tables


def provider_name(section: Mapping[str, Any]) -> str | None:
    """The provider ``st.login`` should use: the first named one, or None for [auth] itself."""
    return next(iter(_providers(section))) or None


def check_redirect_port(section: Mapping[str, Any], host: str, port: int,
                        where: str = ".streamlit/secrets.toml") -> None:
    """Raise ValueError when ``redirect_uri`` sends the provider's answer to another port of
    this machine than the one served (sign-in would fail after the provider's page)."""
    uri = urlparse(str(section["redirect_uri"]).replace("{port}", str(port)))
    try:
        named = uri.port or (443 if uri.scheme == "https" else 80)
    except ValueError as exc:  # urlparse: a port that is not a number
        raise PolicyError(f"{where}: [auth] redirect_uri {section['redirect_uri']!r}: {exc}"
                         ) from None
    here = LOCAL_HOSTS | {host, socket.gethostname(), socket.getfqdn()}
    hostname = uri.hostname or ""
    if hostname not in here and not hostname.startswith("127."):
        return  # a proxy's public address
    if named != port:
        raise PolicyError(f"{where}: [auth] redirect_uri {section['redirect_uri']!r} names port "
                         f"{named}, but the dashboard serves on port {port} ([server] port); "
                         "make them the same, or use {port}")


def provider_metadata_urls(section: Mapping[str, Any]) -> list[str]:
    """Every provider's ``server_metadata_url``."""
    return [str(provider["server_metadata_url"]) for provider in _providers(section).values()]
