"""Bearer tokens and their roles: `viewer` reads, `editor` also decides and schedules, `admin` also
manages the API itself (webhooks).

Tokens come from the environment, read again whenever it or the file changes (no restart to revoke one):
`PELLACIA_API_TOKEN` is one admin token (name `default`); `PELLACIA_API_TOKENS_FILE` names a YAML or JSON
list of `{name, token, role}`. Both may be set. Every token is compared in constant time, and every one of
them is compared, so the time taken says nothing about which token nearly matched.

With no token configured at all, every protected endpoint answers 503 `auth_not_configured` (the server
is not set up; no client credential could help) and says which variable to set; `pellacia-dist api`
refuses to start in that state.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args

import yaml
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pellacia_assets.api.errors import ApiConfigError, ApiError

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
TOKEN_VARIABLE = "PELLACIA_API_TOKEN"
TOKENS_FILE_VARIABLE = "PELLACIA_API_TOKENS_FILE"
NOT_CONFIGURED = (
    f"no API token is configured: set {TOKEN_VARIABLE} (one admin token) or {TOKENS_FILE_VARIABLE} "
    "(a YAML or JSON list of {name, token, role}) and restart the API"
)


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the token's name (recorded as `approval_by`, the rate limit's key) and role."""

    name: str
    role: Role

    def allows(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class ApiToken:
    name: str
    secret: bytes
    role: Role


def _entry(item: Any, index: int, where: str) -> ApiToken:
    if not isinstance(item, dict):
        raise ApiConfigError(f"{where}: entry {index + 1} is not a mapping of name, token and role")
    name, token, role = item.get("name"), item.get("token"), item.get("role")
    if not isinstance(name, str) or not name.strip():
        raise ApiConfigError(f"{where}: entry {index + 1} has no name")
    if not isinstance(token, str) or not token.strip():
        raise ApiConfigError(f"{where}: entry {index + 1} ({name}) has no token")
    if role not in ROLES:
        raise ApiConfigError(f"{where}: {name}'s role {role!r} is not one of {', '.join(ROLES)}")
    return ApiToken(name.strip(), token.strip().encode(), cast(Role, role))


def read_tokens_file(path: Path) -> list[ApiToken]:
    """The tokens a file lists; a clear error naming the file for anything it cannot be."""
    where = f"{TOKENS_FILE_VARIABLE} ({path})"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ApiConfigError(f"{where} cannot be read: {error.strerror or error}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ApiConfigError(f"{where} is neither YAML nor JSON: {error}") from None
    if not isinstance(data, list):
        raise ApiConfigError(f"{where} must be a list of {{name, token, role}}")
    tokens = [_entry(item, index, where) for index, item in enumerate(data)]
    names = [token.name for token in tokens]
    if len(set(names)) != len(names):
        raise ApiConfigError(f"{where}: token names must be unique")
    if len({token.secret for token in tokens}) != len(tokens):
        raise ApiConfigError(f"{where}: two entries share one token")
    return tokens


_cache_lock = threading.Lock()
_cache: tuple[tuple[object, ...], list[ApiToken]] | None = None


def configured_tokens() -> list[ApiToken]:
    """Every configured token, re-read only when the variables or the file's modification time change."""
    global _cache
    single = os.environ.get(TOKEN_VARIABLE, "").strip()
    file_name = os.environ.get(TOKENS_FILE_VARIABLE, "").strip()
    path = Path(file_name).expanduser() if file_name else None
    try:
        stamp: object = path.stat().st_mtime_ns if path is not None else None
    except OSError:
        stamp = "missing"
    key = (single, file_name, stamp)
    with _cache_lock:
        if _cache is not None and _cache[0] == key:
            return _cache[1]
    tokens = [ApiToken("default", single.encode(), "admin")] if single else []
    if path is not None:
        tokens += read_tokens_file(path)
    with _cache_lock:
        _cache = (key, tokens)
    return tokens


def authenticate_token(token: str, tokens: list[ApiToken] | None = None) -> Principal | None:
    """The principal a presented token stands for, or None. Compares against every token in constant
    time (hmac.compare_digest), whichever matches."""
    presented = token.strip().encode("utf-8", "surrogateescape")
    found: Principal | None = None
    for candidate in configured_tokens() if tokens is None else tokens:
        if hmac.compare_digest(presented, candidate.secret) and found is None:
            found = Principal(candidate.name, candidate.role)
    return found


bearer = HTTPBearer(auto_error=False, description="an API token: `Authorization: Bearer <token>`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(message: str, error: str | None = None) -> ApiError:
    challenge = f'Bearer realm="pellacia", error="{error}"' if error else 'Bearer realm="pellacia"'
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": challenge})


def principal_for(credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller, or the error to answer: 503 with nothing configured, 401 for a missing or wrong token."""
    try:
        tokens = configured_tokens()
    except ApiConfigError as error:
        raise ApiError(503, "auth_misconfigured", str(error)) from None
    if not tokens:
        raise ApiError(503, "auth_not_configured", NOT_CONFIGURED)
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("this endpoint needs an API token: send `Authorization: Bearer <token>`")
    principal = authenticate_token(credentials.credentials, tokens)
    if principal is None:
        raise _unauthorized("the API token is not valid", "invalid_token")
    return principal


def require_role(role: Role) -> Callable[..., Principal]:
    """A dependency (`Depends(require_role("editor"))`) answering 401/403/503 unless the caller's token
    has at least `role`, and 429 once the token has spent its rate (see ratelimit.py)."""

    def dependency(request: Request, credentials: Credentials) -> Principal:
        principal = principal_for(credentials)
        if not principal.allows(role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {role} role; the token {principal.name!r} is {principal.role}",
            )
        request.app.state.limiter.check(principal.name)
        request.state.principal = principal
        return principal

    return dependency
