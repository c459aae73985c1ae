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
from resources.platforms.config import PlatformSettings
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


def token_set_from_answer(platform: str, answer: Any, now: float | None = None) -> TokenSet:
    """A token endpoint's JSON answer (RFC 6749 section 5.1) as a TokenSet, its lifetimes made times.

    `expires_in` becomes the expiry; other lifetimes (TikTok's `refresh_expires_in`, LinkedIn's
    `refresh_token_expires_in`) are kept in `extra` as `..._expires_at`, the other fields as sent.
    """
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise PlatformError(platform, ErrorKind.AUTH, "the token endpoint answered without an access token")
    now = time.time() if now is None else now
    extra: dict[str, Any] = {}
    for name, value in answer.items():
        if name in ("access_token", "refresh_token", "expires_in"):
            continue
        if name.endswith("expires_in"):
            lifetime = _seconds(value)
            if lifetime is not None:
                extra[f"{name.removesuffix('_in')}_at"] = now + lifetime
        else:
            extra[name] = value
    expires_in = _seconds(answer.get("expires_in"))
    return TokenSet(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token") else None,
        expires_at=None if expires_in is None else now + expires_in,
        extra=extra,
    )


def _seconds(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class CredentialStore(Protocol):
    def load(self, platform: str, account: str) -> TokenSet | None: ...

    def save(self, platform: str, account: str, tokens: TokenSet) -> None: ...


Refresher = Callable[[TokenSet], TokenSet]


def initial_tokens(
    settings: PlatformSettings, store: CredentialStore | None, *, self_renewing: bool = False
) -> TokenSet:
    """The tokens a client starts with: stored ones, else the environment's, else how to authorise.

    A refresh token alone starts with an expired access token, so that the first call refreshes it.
    `self_renewing` tokens (Meta's long-lived ones) are exchanged for new ones: the access token doubles
    as the token to refresh with.
    """
    stored = store.load(settings.platform, settings.account) if store is not None else None
    if stored is not None:
        return stored
    if settings.access_token:
        renew_with = settings.refresh_token or (settings.access_token if self_renewing else None)
        return TokenSet(settings.access_token, renew_with)
    if settings.refresh_token:
        return TokenSet("", settings.refresh_token, expires_at=0.0)
    prefix = f"PELLACIA_{settings.platform.upper()}_"
    raise PlatformError(
        settings.platform,
        ErrorKind.AUTH,
        f"no tokens for account '{settings.account}': run `pellacia-dist auth {settings.platform}` or set "
        f"{prefix}ACCESS_TOKEN / {prefix}REFRESH_TOKEN",
    )


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
            # A refresh answer need not repeat what still holds: the refresh token, the account's ids.
            answer = self.refresher(self.current)
            refreshed = replace(
                answer,
                refresh_token=answer.refresh_token or self.current.refresh_token,
                extra={**self.current.extra, **answer.extra},
            )
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
