"""Cookie files a person exported from a logged-in browser, read into Playwright's cookie shape.

The alternative to `browser login` where no display is at hand: export the cookies of the platform's
site with a browser extension and import them. Three formats are read:
- Netscape cookies.txt (curl, yt-dlp, "Get cookies.txt"; the format wkaisertexas/tiktok-uploader reads):
  seven tab-separated fields per line, `#HttpOnly_` before the domain of an HttpOnly cookie;
- a JSON list of cookies (Cookie-Editor, EditThisCookie: `expirationDate`, `sameSite` as
  "no_restriction"/"lax"/"strict"/"unspecified");
- a Playwright storage_state JSON (`{"cookies": [...], "origins": [...]}`), kept whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAME_SITE = {
    "no_restriction": "None",
    "none": "None",
    "lax": "Lax",
    "strict": "Strict",
    "unspecified": "Lax",
}


class CookieFileError(ValueError):
    """A cookie file that cannot be read or holds no session; the message says which and why."""


def read_cookie_file(path: Path) -> dict[str, Any]:
    """The file as a Playwright storage_state: `{"cookies": [...], "origins": [...]}`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CookieFileError(f"cannot read the cookie file {path}: {error}") from None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except ValueError as error:
            raise CookieFileError(f"{path} is not valid JSON: {error}") from None
        if isinstance(data, dict) and isinstance(data.get("cookies"), list):
            cookies = [_json_cookie(item, path, index) for index, item in enumerate(data["cookies"])]
            origins = data.get("origins") if isinstance(data.get("origins"), list) else []
            return {"cookies": cookies, "origins": origins}
        if isinstance(data, list):
            return {
                "cookies": [_json_cookie(item, path, index) for index, item in enumerate(data)],
                "origins": [],
            }
        raise CookieFileError(f"{path}: JSON cookie files are a list of cookies or a storage_state object")
    return {"cookies": _netscape(text, path), "origins": []}


def require_cookie(state: dict[str, Any], name: str, source: str, site: str) -> None:
    """Refuse a state without the platform's session cookie: importing it would log nobody in."""
    if not any(cookie.get("name") == name and cookie.get("value") for cookie in state["cookies"]):
        raise CookieFileError(
            f"{source} has no '{name}' cookie, so it holds no logged-in session; export the cookies of "
            f"{site} while logged in"
        )


def _netscape(text: str, path: Path) -> list[dict[str, Any]]:
    cookies: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line.removeprefix("#HttpOnly_")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 7:
            raise CookieFileError(
                f"{path}, line {number}: a Netscape cookie line has 7 tab-separated fields, this one has "
                f"{len(fields)}"
            )
        domain, _subdomains, cookie_path, secure, expires, name, value = fields
        try:
            expiry = int(float(expires))
        except ValueError:
            raise CookieFileError(f"{path}, line {number}: the expiry {expires!r} is not a number") from None
        cookies.append(
            {
                "name": name,
                "value": value,
                "domain": domain,
                "path": cookie_path or "/",
                "expires": float(expiry) if expiry > 0 else -1.0,
                "httpOnly": http_only,
                "secure": secure.upper() == "TRUE",
                "sameSite": "Lax",
            }
        )
    if not cookies:
        raise CookieFileError(f"{path} holds no cookies (neither Netscape cookies.txt lines nor JSON)")
    return cookies


def _json_cookie(item: Any, path: Path, index: int) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("name") or "value" not in item or not item.get("domain"):
        raise CookieFileError(f"{path}: cookie #{index + 1} needs a name, a value and a domain")
    expires = item.get("expires", item.get("expirationDate"))
    secure = bool(item.get("secure", False))
    same_site = SAME_SITE.get(str(item.get("sameSite") or "lax").lower(), "Lax")
    if same_site == "None" and not secure:
        same_site = "Lax"  # Chromium drops SameSite=None cookies that are not Secure
    try:
        expiry = -1.0 if expires in (None, "", -1) or item.get("session") else float(expires)
    except (TypeError, ValueError):
        raise CookieFileError(f"{path}: cookie {item['name']!r} has an expiry that is not a number") from None
    return {
        "name": str(item["name"]),
        "value": str(item["value"]),
        "domain": str(item["domain"]),
        "path": str(item.get("path") or "/"),
        "expires": expiry,
        "httpOnly": bool(item.get("httpOnly", False)),
        "secure": secure,
        "sameSite": same_site,
    }
