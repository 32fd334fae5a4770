"""Who is using the dashboard: a signed-in user from the team's OIDC provider, or ``local``.

Runs are keyed by the provider's (``iss``, ``sub``), never by email (emails change hands);
they are shown by name or email. The ``[auth]`` section of ``.streamlit/secrets.toml`` is
checked here so a wrong key is named at start instead of failing at the first sign-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Keys every provider needs (directly in [auth], or in each [auth.<name>]).
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
# Keys [auth] itself needs.
AUTH_KEYS = ("redirect_uri", "cookie_secret")


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
            raise ValueError(f"{where}: [auth] {key} is missing")
    if not str(section["redirect_uri"]).endswith("/oauth2callback"):
        raise ValueError(f"{where}: [auth] redirect_uri must end in /oauth2callback, not "
                         f"{section['redirect_uri']!r}")
    providers = {name: value for name, value in section.items() if isinstance(value, Mapping)}
    direct = [key for key in PROVIDER_KEYS if key in section]
    if direct or not providers:
        providers = {"": section}
    for name, provider in providers.items():
        label = f"[auth.{name}]" if name else "[auth]"
        for key in PROVIDER_KEYS:
            if not provider.get(key):
                raise ValueError(f"{where}: {label} {key} is missing")


def provider_name(section: Mapping[str, Any]) -> str | None:
    """The provider ``st.login`` should use: the first named one, or None for [auth] itself."""
    if any(key in section for key in PROVIDER_KEYS):
        return None
    return next((name for name, value in section.items() if isinstance(value, Mapping)), None)
