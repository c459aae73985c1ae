"""The editorial page under `/ui`: server-rendered (Jinja2, autoescaped, no script at all), for people.

An editor logs in with an API token once; the browser then holds a signed session cookie (HttpOnly,
SameSite=Strict, Secure over https) naming the token's principal and a keyed fingerprint of the token,
never the token itself. The session ends when it expires (8 hours) or as soon as its token is removed from
the configuration or changes role; logging out deletes the cookie (no session is kept on the server, so a
copy of the cookie taken before stays valid until one of those). Every form carries a per-session CSRF
token; every decision needs the `editor` role and goes through the same services as the CLI and the REST
API (pellacia_assets/editorial.py, the manual queue routes), recorded under the token's name.

The signing key is derived from `PELLACIA_SECRET_KEY`; without it, from a key made per process, so
sessions then end when the API restarts and are not shared between API processes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select

from pellacia_assets import editorial
from pellacia_assets.api.auth import (
    NOT_CONFIGURED,
    ROLES,
    Principal,
    Role,
    authenticate_token,
    configured_tokens,
)
from pellacia_assets.api.deps import CurrentSettings, Factory, IdPath, Store
from pellacia_assets.api.errors import ApiConfigError, ApiError
from pellacia_assets.api.models import STORY_KEY_PATTERN, RejectRequest, ResolveRequest
from pellacia_assets.api.routes import manual as manual_routes
from pellacia_assets.manual_queue import describe
from resources.database.engine import transaction
from resources.database.intake import ApprovalError
from resources.database.manual import list_entries
from resources.database.models import LedgerEntry, QueuedPost, as_utc
from resources.database.post_queue import OPEN
from resources.platforms.credentials import SECRET_KEY_VARIABLE

router = APIRouter(prefix="/ui", include_in_schema=False)

SESSION_COOKIE = "pellacia_session"
LOGIN_COOKIE = "pellacia_login"
FLASH_COOKIE = "pellacia_flash"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 8 * 3600
LOGIN_FORM_SECONDS = 3600
FLASH_SECONDS = 120
CSRF_FIELD = "csrf"
LIST_SIZE = 50
_APPROVAL_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}
_PROCESS_KEY = secrets.token_bytes(32)
# No script may run on these pages (story text is untrusted); styles are inline in the templates.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# --- signed values --------------------------------------------------------------------------------------


def _signing_key() -> bytes:
    secret = os.environ.get(SECRET_KEY_VARIABLE, "").strip()
    base = secret.encode() if secret else _PROCESS_KEY
    return hmac.new(base, b"pellacia-editorial-page-v1", hashlib.sha256).digest()


def _mac(purpose: str, value: str) -> str:
    return hmac.new(_signing_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(purpose: str, payload: dict[str, Any], seconds: int) -> str:
    """`payload` with an expiry, readable by anyone, changeable by nobody without the key; a value signed
    for one purpose (a flash message) is never accepted for another (a session)."""
    body = _b64(json.dumps({**payload, "exp": int(time.time()) + seconds}, separators=(",", ":")).encode())
    return f"{body}.{_mac(purpose, body)}"


def unsign(purpose: str, value: str | None) -> dict[str, Any] | None:
    """The payload `sign` made for `purpose`, or None when it is missing, altered or expired."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(purpose, body).encode()):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        return None
    return payload if payload["exp"] > time.time() else None


def _fingerprint(secret: bytes) -> str:
    """What the session keeps of its token: a keyed hash, so a stolen cookie does not reveal the token."""
    return _mac("token", secret.hex())


# --- the session ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UiSession:
    principal: Principal
    sid: str

    @property
    def csrf(self) -> str:
        return _mac("csrf", self.sid)


def current_session(request: Request) -> UiSession | None:
    """The logged-in editor, while the session is unexpired and its token is still configured as it was."""
    payload = unsign("session", request.cookies.get(SESSION_COOKIE))
    if payload is None:
        return None
    name, role, fingerprint, sid = (payload.get(field) for field in ("name", "role", "token", "sid"))
    if not all(isinstance(value, str) for value in (name, role, fingerprint, sid)) or role not in ROLES:
        return None
    try:
        tokens = configured_tokens()
    except ApiConfigError:
        return None
    for token in tokens:
        if (
            token.name == name
            and token.role == role
            and hmac.compare_digest(_fingerprint(token.secret), str(fingerprint))
        ):
            return UiSession(Principal(token.name, token.role), str(sid))
    return None


def _set_cookie(response: Response, request: Request, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _redirect(request: Request, to: str, flash: str | None = None) -> Response:
    """Post/redirect/get: what was done travels to the next page in a short-lived signed cookie."""
    response = RedirectResponse(to, status_code=303)
    if flash is not None:
        _set_cookie(
            response,
            request,
            FLASH_COOKIE,
            sign("flash", {"m": flash}, FLASH_SECONDS),
            FLASH_SECONDS,
        )
    response.headers.update(SECURITY_HEADERS)
    return response


def _take_flash(request: Request) -> dict[str, str] | None:
    payload = unsign("flash", request.cookies.get(FLASH_COOKIE))
    if payload is None or not isinstance(payload.get("m"), str):
        return None
    return {"message": payload["m"], "kind": "ok"}


# --- rendering ------------------------------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _web_link(url: str | None) -> str | None:
    """A link only to http(s) addresses: a `javascript:` URL in a story would otherwise be clickable."""
    if not url:
        return None
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_environment.filters["when"] = _when
_environment.filters["web_link"] = _web_link
templates = Jinja2Templates(env=_environment)


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


def _refusal(
    request: Request, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    context = {"title": title, "reason": message, "message": None}
    return _page(request, "refused.html", context, status, headers)


def _dashboard(
    request: Request,
    ui: UiSession,
    factory: Factory,
    *,
    message: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    pending, pending_total = editorial.list_stories(factory, approval="pending", limit=LIST_SIZE)
    approved, _ = editorial.list_stories(factory, approval="approved", limit=LIST_SIZE)
    with transaction(factory) as session:
        queue = list(
            session.scalars(
                select(QueuedPost)
                .where(QueuedPost.state.in_(OPEN))
                .order_by(QueuedPost.not_before, QueuedPost.id)
                .limit(LIST_SIZE)
            )
        )
        posts = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(LIST_SIZE)))
        manual = [(entry, describe(entry)) for entry in list_entries(session, "open")]
    context = {
        "ui": ui,
        "can_decide": ui.principal.allows("editor"),
        "message": message or _take_flash(request),
        "pending": pending,
        "pending_total": pending_total,
        "approved": approved,
        "queue": queue,
        "posts": posts,
        "manual": manual,
    }
    return _page(request, "dashboard.html", context, status)


# --- guards ---------------------------------------------------------------------------------------------


class RefusedError(Exception):
    """A request the page answers with a refusal page (status, title, message)."""

    def __init__(self, status: int, title: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.headers = status, title, message, headers or {}


def _rate_limited(request: Request, key: str) -> None:
    try:
        request.app.state.limiter.check(key)
    except ApiError as error:
        raise RefusedError(429, "Too many requests", error.message, error.headers) from None


def _authorised(request: Request, csrf: str | None, role: Role) -> UiSession:
    """The session of a form POST: logged in, the form's CSRF token its own, the role enough."""
    ui = current_session(request)
    if ui is None:
        raise RefusedError(401, "Not logged in", "your session has ended; log in again")
    if not csrf or not hmac.compare_digest(csrf.encode(), ui.csrf.encode()):
        raise RefusedError(
            403, "Refused", "the form's security token is missing or wrong; reload the page and retry"
        )
    if not ui.principal.allows(role):
        raise RefusedError(
            403,
            "Refused",
            f"this needs the {role} role; the token {ui.principal.name!r} is {ui.principal.role}",
        )
    _rate_limited(request, ui.principal.name)
    return ui


Csrf = Annotated[str | None, Form(alias=CSRF_FIELD)]


# --- login ----------------------------------------------------------------------------------------------


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(16)
    response = _page(
        request,
        "login.html",
        {"csrf": _mac("login-csrf", nonce), "error": error, "message": _take_flash(request)},
        status,
    )
    _set_cookie(
        response,
        request,
        LOGIN_COOKIE,
        sign("login", {"nonce": nonce}, LOGIN_FORM_SECONDS),
        LOGIN_FORM_SECONDS,
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if current_session(request) is not None:
        return _redirect(request, "/ui")
    return _login_page(request)


@router.post("/login")
def login(request: Request, csrf: Csrf = None, token: Annotated[str | None, Form()] = None) -> Response:
    """Exchange an API token for a session cookie. The login form has its own CSRF token, bound to a
    cookie set with the form, so no other site can log a browser in under its own token."""
    form = unsign("login", request.cookies.get(LOGIN_COOKIE))
    nonce = form.get("nonce") if form else None
    if (
        not isinstance(nonce, str)
        or not csrf
        or not hmac.compare_digest(csrf.encode(), _mac("login-csrf", nonce).encode())
    ):
        return _refusal(
            request, 403, "Refused", "the login form expired or was not sent from this site; reload it"
        )
    client = request.client.host if request.client else "unknown"
    try:
        _rate_limited(request, f"ui-login:{client}")
        try:
            tokens = configured_tokens()
        except ApiConfigError as error:
            raise RefusedError(503, "Not configured", str(error)) from None
        if not tokens:
            raise RefusedError(503, "Not configured", NOT_CONFIGURED)
    except RefusedError as refusal:
        return _login_page(request, refusal.message, refusal.status)
    principal = authenticate_token(token or "", tokens)
    if principal is None:
        return _login_page(request, "that token is not valid", 401)
    secret = next(t.secret for t in tokens if t.name == principal.name)
    session = {
        "name": principal.name,
        "role": principal.role,
        "token": _fingerprint(secret),
        "sid": secrets.token_urlsafe(16),
    }
    response = _redirect(request, "/ui", f"logged in as {principal.name} ({principal.role})")
    _set_cookie(response, request, SESSION_COOKIE, sign("session", session, SESSION_SECONDS), SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Csrf = None) -> Response:
    try:
        _authorised(request, csrf, "viewer")
    except RefusedError as refusal:
        return _refusal(request, refusal.status, refusal.title, refusal.message, refusal.headers)
    response = _redirect(request, "/ui/login", "logged out")
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


# --- the dashboard and the decisions --------------------------------------------------------------------


@router.get("")
def dashboard(request: Request, factory: Factory) -> Response:
    ui = current_session(request)
    if ui is None:
        return _redirect(request, "/ui/login")
    try:
        _rate_limited(request, ui.principal.name)
    except RefusedError as refusal:
        return _refusal(request, refusal.status, refusal.title, refusal.message, refusal.headers)
    return _dashboard(request, ui, factory)


def _decide(
    request: Request, factory: Factory, csrf: str | None, act: Callable[[Principal], str]
) -> Response:
    """Run one editor's decision: refused without a session, CSRF token or role; on success back to the
    dashboard with what happened; when the services refuse it (unknown story, already decided, bad input)
    the dashboard again with the reason and its status, nothing changed."""
    try:
        ui = _authorised(request, csrf, "editor")
    except RefusedError as refusal:
        return _refusal(request, refusal.status, refusal.title, refusal.message, refusal.headers)
    try:
        done = act(ui.principal)
    except ApprovalError as error:
        status, reason = _APPROVAL_STATUS.get(error.code, 409), str(error)
    except ApiError as error:
        status, reason = error.status, error.message
    except ValidationError as error:
        status, reason = 422, _first_problem(error)
    else:
        return _redirect(request, "/ui", done)
    return _dashboard(request, ui, factory, message={"message": reason, "kind": "error"}, status=status)


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    return f"{field}: {first.get('msg', 'not valid')}" if field else str(first.get("msg", "not valid"))


def _known_key(key: str) -> str:
    """A key that could be a story's; any other (a NUL, a slash, 300 characters) is no story at all."""
    if re.fullmatch(STORY_KEY_PATTERN, key) is None:
        raise ApprovalError(f"no story {key[:200]!r}", "not_found")
    return key


@router.post("/stories/{key}/approve")
def approve(request: Request, key: str, factory: Factory, csrf: Csrf = None) -> Response:
    def act(principal: Principal) -> str:
        view = editorial.approve_story(factory, _known_key(key), principal.name)
        return f"approved: {view.key} — it will be produced shortly"

    return _decide(request, factory, csrf, act)


@router.post("/stories/{key}/reject")
def reject(
    request: Request, key: str, factory: Factory, csrf: Csrf = None, reason: Annotated[str, Form()] = ""
) -> Response:
    def act(principal: Principal) -> str:
        checked = RejectRequest(reason=reason.strip())
        view = editorial.reject_story(factory, _known_key(key), checked.reason, principal.name)
        return f"rejected: {view.key} ({view.approval_note})"

    return _decide(request, factory, csrf, act)


@router.post("/stories/{key}/breaking")
def breaking(request: Request, key: str, factory: Factory, csrf: Csrf = None) -> Response:
    def act(principal: Principal) -> str:
        view, moved = editorial.flag_breaking(factory, _known_key(key), principal.name)
        posts = f"{len(moved)} waiting post{'s' if len(moved) != 1 else ''} moved to the breaking lane"
        return f"breaking news: {view.key} — {posts}; later posts start there"

    return _decide(request, factory, csrf, act)


@router.post("/manual/{entry_id}/resolve")
def resolve(
    request: Request,
    entry_id: IdPath,
    factory: Factory,
    store: Store,
    csrf: Csrf = None,
    post_url: Annotated[str, Form()] = "",
) -> Response:
    """The same resolution as `POST /manual/{id}/resolve` (and `pellacia-dist manual resolve`)."""

    def act(principal: Principal) -> str:
        body = ResolveRequest(url=post_url.strip() or None)
        entry = manual_routes.resolve(entry_id, body, principal, factory, store)
        where = f" is live at {entry.resolved_url}" if entry.resolved_url else " handled"
        return f"resolved manual entry {entry.id}: {entry.story_key or entry.source_path}{where}"

    return _decide(request, factory, csrf, act)


@router.get("/manual/{entry_id}/export.zip")
def manual_export(
    request: Request, entry_id: IdPath, factory: Factory, store: Store, settings: CurrentSettings
) -> Response:
    """The zip `GET /manual/{id}/export.zip` sends, for the logged-in browser (a link cannot carry a
    bearer token)."""
    ui = current_session(request)
    if ui is None:
        return _redirect(request, "/ui/login")
    try:
        _rate_limited(request, ui.principal.name)
        return manual_routes.export_zip(entry_id, ui.principal, factory, store, settings)
    except RefusedError as refusal:
        return _refusal(request, refusal.status, refusal.title, refusal.message, refusal.headers)
    except ApiError as error:
        return _dashboard(
            request, ui, factory, message={"message": error.message, "kind": "error"}, status=error.status
        )
