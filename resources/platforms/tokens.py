"""An account's OAuth tokens: where they come from, how they are refreshed, and that refreshes persist.

Stored credentials (encrypted, `pellacia-dist auth`) win over the environment, because a refresh writes
the newest tokens there: TikTok rotates refresh tokens, so an old one from the environment stops working.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from resources.platforms.errors import ErrorKind, PlatformError

REFRESH_MARGIN_S = 60.0


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expiring(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.expires_at is not None and self.expires_at - REFRESH_MARGIN_S <= now

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=data.get("expires_at"),
            extra=dict(data.get("extra") or {}),
        )


class CredentialStore(Protocol):
    def load(self, platform: str, account: str) -> TokenSet | None: ...

    def save(self, platform: str, account: str, tokens: TokenSet) -> None: ...


Refresher = Callable[[TokenSet], TokenSet]


class AccountTokens:
    """The TokenProvider the HTTP transport uses: refreshes when asked or when expiring, then persists."""

    def __init__(
        self,
        platform: str,
        account: str,
        initial: TokenSet,
        refresher: Refresher | None,
        store: CredentialStore | None,
        client_secret: str | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.current = initial
        self.refresher = refresher
        self.store = store
        self.client_secret = client_secret
        self._lock = threading.Lock()

    def access_token(self) -> str:
        if self.current.expiring() and self.refresher and self.current.refresh_token:
            return self.refresh()
        return self.current.access_token

    def refresh(self) -> str:
        with self._lock:
            if self.refresher is None or not self.current.refresh_token:
                raise PlatformError(
                    self.platform,
                    ErrorKind.AUTH,
                    f"the access token of account '{self.account}' was refused and there is no refresh "
                    f"token; run `pellacia-dist auth {self.platform}`",
                    status=401,
                )
            refreshed = self.refresher(self.current)
            if refreshed.refresh_token is None:
                refreshed = replace(refreshed, refresh_token=self.current.refresh_token)
            if self.store is not None:
                self.store.save(self.platform, self.account, refreshed)
            self.current = refreshed
            return refreshed.access_token

    def secrets(self) -> list[str]:
        return [s for s in (self.current.access_token, self.current.refresh_token, self.client_secret) if s]
