"""Where each platform lives and which account to use, from PELLACIA_<PLATFORM>_* variables.

Every URL is a root to which the documented paths are appended unchanged, so pointing a client at a
sandbox (or a proxy) changes only these roots. URLs a platform hands back are used as returned.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from resources.platforms import platform_named

ACCOUNT_IDS = {
    "instagram": "PELLACIA_INSTAGRAM_USER_ID",
    "facebook": "PELLACIA_FACEBOOK_PAGE_ID",
    "linkedin": "PELLACIA_LINKEDIN_AUTHOR",
}
# never kept as options (which the Dagster UI shows): tokens, secrets, and proxy URLs (they carry passwords)
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_PROXIES")
DEFAULT_URLS: dict[str, dict[str, str]] = {
    "youtube": {
        "api": "https://youtube.googleapis.com",
        "upload": "https://youtube.googleapis.com",
        "oauth": "https://oauth2.googleapis.com",
        "analytics": "https://youtubeanalytics.googleapis.com",
    },
    "tiktok": {"api": "https://open.tiktokapis.com", "oauth": "https://open.tiktokapis.com"},
    "instagram": {"api": "https://graph.facebook.com", "oauth": "https://graph.facebook.com"},
    "facebook": {
        "api": "https://graph.facebook.com",
        "oauth": "https://graph.facebook.com",
        "video": "https://graph-video.facebook.com",
    },
    "x": {"api": "https://api.x.com", "oauth": "https://api.x.com"},
    "linkedin": {"api": "https://api.linkedin.com", "oauth": "https://www.linkedin.com"},
}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class PlatformSettings:
    """One platform account's endpoints and (environment) credentials."""

    platform: str
    urls: dict[str, str]
    account: str = "default"
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    account_id: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    def url(self, kind: str, path: str) -> str:
        return self.urls[kind].rstrip("/") + path

    @classmethod
    def from_env(cls, platform: str) -> PlatformSettings:
        platform = platform_named(platform)
        prefix = f"PELLACIA_{platform.upper()}_"
        urls = {
            kind: _env(f"{prefix}{kind.upper()}_URL") or url for kind, url in DEFAULT_URLS[platform].items()
        }
        options = {
            key[len(prefix) :].lower(): value.strip()
            for key, value in os.environ.items()
            if key.startswith(prefix) and value.strip() and not key.endswith(SECRET_SUFFIXES)
        }
        account_variable = ACCOUNT_IDS.get(platform)
        return cls(
            platform=platform,
            urls=urls,
            account=_env(f"{prefix}ACCOUNT") or "default",
            access_token=_env(f"{prefix}ACCESS_TOKEN"),
            refresh_token=_env(f"{prefix}REFRESH_TOKEN"),
            client_id=_env(f"{prefix}CLIENT_ID"),
            client_secret=_env(f"{prefix}CLIENT_SECRET"),
            account_id=_env(account_variable) if account_variable else None,
            options=options,
        )
