"""What every web sandbox shares: HTML answers, redirects, cookie sessions, QR logins and challenges.

A web sandbox is a SandboxServer (sandbox/common.py) whose routes answer pages instead of JSON, so the
same faults (drop a request after commit, fail it, delay it) and the same request log serve both kinds.
Sessions are cookies the sandbox issues at login and checks on every page that needs one; tests expire
them all at once, as when a platform logs an account out.
"""

from __future__ import annotations

import html
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

from sandbox.common import Request, Response, SandboxServer

HTML = "text/html; charset=utf-8"
SESSION_MAX_AGE_S = 60 * 24 * 3600

BASE_STYLE = """
body { font-family: sans-serif; margin: 0; background: #fff; color: #161823; }
header { display: flex; gap: 16px; padding: 12px 24px; border-bottom: 1px solid #eee; }
main { padding: 24px; max-width: 960px; }
button { cursor: pointer; }
[hidden] { display: none !important; }
"""


def page(title: str, body: str, *, script: str = "", style: str = "", status: int = 200) -> Response:
    """A whole HTML document; `body`, `script` and `style` are inserted as given (escape text first)."""
    document = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{BASE_STYLE}{style}</style></head>"
        f"<body>{body}"
        f"{f'<script>{script}</script>' if script else ''}"
        "</body></html>"
    )
    return Response(status, document.encode(), content_type=HTML)


def redirect(location: str, *, set_cookie: str | None = None) -> Response:
    headers = {"Location": location, "Cache-Control": "no-store"}
    if set_cookie is not None:
        headers["Set-Cookie"] = set_cookie
    return Response(302, None, headers)


def cookies_of(request: Request) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header counts as no cookies, as a server would treat it
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def session_cookie(name: str, value: str, *, max_age_s: int = SESSION_MAX_AGE_S) -> str:
    return f"{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax"


def cleared_cookie(name: str) -> str:
    return f"{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"


def login_location(login_path: str, request: Request) -> str:
    """The login page, told where to come back to (`redirect_url`, as the platforms name it)."""
    back = request.path + (f"?{_query_string(request.query)}" if request.query else "")
    return f"{login_path}?redirect_url={quote(back, safe='')}"


def _query_string(query: Mapping[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())


def safe_return(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after a login (an open redirect would be a bug of the page)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


@dataclass
class Sessions:
    """The cookie sessions a web sandbox has issued: session value -> user name."""

    cookie: str
    _users: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, user: str) -> str:
        value = secrets.token_hex(16)
        with self._lock:
            self._users[value] = user
        return value

    def user(self, request: Request) -> str | None:
        value = cookies_of(request).get(self.cookie)
        with self._lock:
            return self._users.get(value) if value else None

    def end(self, request: Request) -> None:
        value = cookies_of(request).get(self.cookie)
        with self._lock:
            self._users.pop(value or "", None)

    def expire_all(self) -> None:
        """Every session issued so far stops working: the next page that needs one sends to the login."""
        with self._lock:
            self._users.clear()

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._users)


@dataclass
class QrLogins:
    """Log-in by QR code: the page shows a token, polls it, and is logged in once a phone approved it."""

    _pending: dict[str, str | None] = field(default_factory=dict)  # token -> session value once approved
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new(self) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._pending[token] = None
        return token

    def waiting(self) -> list[str]:
        with self._lock:
            return [token for token, session in self._pending.items() if session is None]

    def approve(self, token: str, session: str) -> None:
        with self._lock:
            if token not in self._pending:
                raise KeyError(f"no QR login {token!r} is waiting")
            self._pending[token] = session

    def take(self, token: str) -> str | None:
        """The approved session of `token` (handed out once), else None."""
        with self._lock:
            session = self._pending.get(token)
            if session is not None:
                del self._pending[token]
            return session


@dataclass
class Challenges:
    """Challenge (captcha) pages on demand: the next `times` visits of a page show one instead."""

    _due: dict[str, int] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, where: str, times: int) -> None:
        with self._lock:
            self._due[where] = self._due.get(where, 0) + times

    def take(self, where: str) -> bool:
        with self._lock:
            if self._due.get(where, 0) <= 0:
                return False
            self._due[where] -= 1
            self.shown.append(where)
            return True


class WebSandbox(SandboxServer):
    """A SandboxServer that serves pages; `renamed` lets a test change the page as a platform redesign
    would (a `data-e2e` name replaced), so that flow data written for the old page meets a new one."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.renamed: dict[str, str] = {}

    def redesign(self, renames: Mapping[str, str]) -> None:
        """From now on every `data-e2e="old"` on a page is `data-e2e="new"`."""
        self.renamed.update(renames)

    def render(
        self, title: str, body: str, *, script: str = "", style: str = "", status: int = 200
    ) -> Response:
        for old, new in self.renamed.items():
            body = body.replace(f'data-e2e="{old}"', f'data-e2e="{new}"')
        return page(title, body, script=script, style=style, status=status)


def text(value: str) -> str:
    """`value` escaped for HTML text and attribute values."""
    return html.escape(value, quote=True)
