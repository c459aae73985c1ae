"""An account's credentials in one place: its OAuth tokens, how they refresh, and how they are kept.

Stored credentials (encrypted, `pellacia-dist auth`) win over the environment, because a refresh writes
the newest tokens there: TikTok rotates refresh tokens, so an old one from the environment stops working.
Encryption at rest uses a Fernet key that only the environment holds (PELLACIA_SECRET_KEY); only
ciphertext ever reaches the `platform_credentials` table.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import transaction
from resources.database.models import PlatformCredential
from resources.platforms.errors import ErrorKind, PlatformError

REFRESH_MARGIN_S = 60.0
SECRET_KEY_VARIABLE = "PELLACIA_SECRET_KEY"


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


class CredentialKeyError(RuntimeError):
    """The encryption key is missing, malformed, or not the one the secrets were written with."""


def load_key() -> Fernet:
    key = os.environ.get(SECRET_KEY_VARIABLE, "").strip()
    if not key:
        raise CredentialKeyError(
            f"{SECRET_KEY_VARIABLE} is not set; stored credentials are encrypted with it. Make one with: "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    try:
        return Fernet(key.encode())
    except ValueError as error:
        raise CredentialKeyError(
            f"{SECRET_KEY_VARIABLE} is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from error


def encrypt(secrets: dict[str, Any], fernet: Fernet) -> bytes:
    return fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())


def decrypt(ciphertext: bytes, fernet: Fernet) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(fernet.decrypt(ciphertext))
    except InvalidToken as error:
        raise CredentialKeyError(
            f"stored credentials cannot be decrypted with this {SECRET_KEY_VARIABLE}; "
            "was the key changed since they were saved?"
        ) from error
    return data


def _credential_row(session: Session, platform: str, account: str) -> PlatformCredential | None:
    return session.scalar(
        select(PlatformCredential).where(
            PlatformCredential.platform == platform, PlatformCredential.account == account
        )
    )


def save_credentials(
    session: Session, fernet: Fernet, platform: str, account: str, secrets: dict[str, Any]
) -> None:
    row = _credential_row(session, platform, account)
    ciphertext = encrypt(secrets, fernet)
    if row is None:
        session.add(PlatformCredential(platform=platform, account=account, ciphertext=ciphertext))
    else:
        row.ciphertext = ciphertext


def load_credentials(session: Session, fernet: Fernet, platform: str, account: str) -> dict[str, Any] | None:
    row = _credential_row(session, platform, account)
    return None if row is None else decrypt(row.ciphertext, fernet)


def delete_credentials(session: Session, platform: str, account: str) -> None:
    row = _credential_row(session, platform, account)
    if row is not None:
        session.delete(row)


class DatabaseCredentialStore:
    """Reads and writes TokenSets; the Fernet key comes from PELLACIA_SECRET_KEY at each use."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def load(self, platform: str, account: str) -> TokenSet | None:
        with transaction(self.factory) as session:
            secrets = load_credentials(session, load_key(), platform, account)
        return None if secrets is None else TokenSet.from_dict(secrets)

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        with transaction(self.factory) as session:
            save_credentials(session, load_key(), platform, account, tokens.to_dict())

    def forget(self, platform: str, account: str) -> None:
        with transaction(self.factory) as session:
            delete_credentials(session, platform, account)


class EnvironmentOnlyStore:
    """Without PELLACIA_SECRET_KEY nothing is stored, so nothing loads, and refreshes cannot persist."""

    def load(self, platform: str, account: str) -> TokenSet | None:
        return None

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        raise CredentialKeyError(
            f"{platform} issued new tokens for account '{account}' but PELLACIA_SECRET_KEY is not set, "
            "so they cannot be stored encrypted; set it (rotated refresh tokens would be lost)"
        )
