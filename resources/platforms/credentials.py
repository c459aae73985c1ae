"""An account's credentials in one place: its OAuth tokens, how they refresh, and how they are kept.

Stored credentials (encrypted, `pellacia-dist auth`) win over the environment, because a refresh writes
the newest tokens there: TikTok rotates refresh tokens, so an old one from the environment stops working.
Encryption at rest uses a Fernet key that only the environment holds (PELLACIA_SECRET_KEY); only
ciphertext ever reaches the `platform_credentials` table.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import transaction, upsert
from resources.database.models import PlatformCredential, utcnow
from resources.platforms.config import PlatformSettings
from resources.platforms.errors import ErrorKind, PlatformError

REFRESH_MARGIN_S = 60.0
SECRET_KEY_VARIABLE = "PELLACIA_SECRET_KEY"
OLD_SECRET_KEY_VARIABLE = "PELLACIA_OLD_SECRET_KEY"
log = logging.getLogger("pellacia.platforms.credentials")


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
    """Where an account's tokens are kept. A store may also say (attribute `persistent`, default True)
    whether a refresh can be kept at all, and (`locked(platform, account)`) whether it holds credentials
    it cannot read without PELLACIA_SECRET_KEY."""

    def load(self, platform: str, account: str) -> TokenSet | None: ...

    def save(self, platform: str, account: str, tokens: TokenSet) -> None: ...


def _persistent(store: CredentialStore | None) -> bool:
    """False only for a store that says it cannot keep tokens; None (no store wanted) keeps nothing."""
    return store is None or bool(getattr(store, "persistent", True))


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
    locked = _locked(store, settings.platform, settings.account)
    if locked and (settings.access_token or settings.refresh_token):
        log.warning(
            "%s: account '%s' has stored credentials, but %s is not set, so they cannot be read; "
            "using the tokens from the environment instead",
            settings.platform,
            settings.account,
            SECRET_KEY_VARIABLE,
        )
    if settings.access_token:
        renew_with = settings.refresh_token or (settings.access_token if self_renewing else None)
        return TokenSet(settings.access_token, renew_with)
    if settings.refresh_token:
        return TokenSet("", settings.refresh_token, expires_at=0.0)
    prefix = f"PELLACIA_{settings.platform.upper()}_"
    if locked:
        raise PlatformError(
            settings.platform,
            ErrorKind.AUTH,
            f"account '{settings.account}' has stored credentials, but {SECRET_KEY_VARIABLE} is not set, "
            "so they cannot be decrypted; set it to the key they were stored with",
        )
    raise PlatformError(
        settings.platform,
        ErrorKind.AUTH,
        f"no tokens for account '{settings.account}': run `pellacia-dist auth {settings.platform}` or set "
        f"{prefix}ACCESS_TOKEN / {prefix}REFRESH_TOKEN",
    )


def _locked(store: CredentialStore | None, platform: str, account: str) -> bool:
    """Whether `store` holds credentials for the account that it cannot read (no key to decrypt them)."""
    locked = getattr(store, "locked", None)
    return bool(locked(platform, account)) if callable(locked) else False


class AccountTokens:
    """The TokenProvider the HTTP transport uses: refreshes when asked or when expiring, then persists.

    `rotating`: the platform replaces the refresh token on every refresh and the old one dies (TikTok, X).
    Where the store cannot keep tokens (no PELLACIA_SECRET_KEY), such a refresh is refused before the
    token endpoint is called, since its new refresh token would be lost with the process and the old one
    is already dead. A refresh that rotates nothing (YouTube, Meta's exchange, LinkedIn) is safe: its
    access token is kept for this process, with one warning that it will not outlive it.
    """

    def __init__(
        self,
        platform: str,
        account: str,
        initial: TokenSet,
        refresher: Refresher | None,
        store: CredentialStore | None,
        client_secret: str | None = None,
        *,
        rotating: bool = False,
    ) -> None:
        self.platform = platform
        self.account = account
        self.current = initial
        self.refresher = refresher
        self.store = store
        self.client_secret = client_secret
        self.rotating = rotating
        self._warned_unkept = False
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
            kept = _persistent(self.store)
            if not kept and self.rotating:
                raise PlatformError(
                    self.platform,
                    ErrorKind.AUTH,
                    f"the access token of account '{self.account}' needs refreshing, but "
                    f"{SECRET_KEY_VARIABLE} is not set: {self.platform} replaces the refresh token on every "
                    "refresh, so the new one could not be kept and the account would be locked out; set "
                    f"{SECRET_KEY_VARIABLE} and store the tokens with `pellacia-dist auth {self.platform}`",
                )
            # A refresh answer need not repeat what still holds: the refresh token, the account's ids.
            answer = self.refresher(self.current)
            refreshed = replace(
                answer,
                refresh_token=answer.refresh_token or self.current.refresh_token,
                extra={**self.current.extra, **answer.extra},
            )
            if kept and self.store is not None:
                self.store.save(self.platform, self.account, refreshed)
            elif not self._warned_unkept:
                self._warned_unkept = True
                log.warning(
                    "%s: refreshed the access token of account '%s' for this process only: %s is not set, so "
                    "it is not stored and every run refreshes again; set %s to keep it",
                    self.platform,
                    self.account,
                    SECRET_KEY_VARIABLE,
                    SECRET_KEY_VARIABLE,
                )
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
    return fernet_from(key, SECRET_KEY_VARIABLE)


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
    """Insert or replace the account's row in one statement: processes that refreshed the same account at
    once each store theirs (the last one wins) instead of colliding on the unique (platform, account)."""
    upsert(
        session,
        PlatformCredential,
        {"platform": platform, "account": account},
        {"ciphertext": encrypt(secrets, fernet), "updated_at": utcnow()},
    )


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

    def check_key(self) -> None:
        """Refuse to write under this PELLACIA_SECRET_KEY while other rows are under another key: one
        table, one key (a second key would make the older rows unreadable with either)."""
        with transaction(self.factory) as session:
            foreign = unreadable_credentials(session, load_key())
        if foreign:
            names = ", ".join(f"{platform}/{account}" for platform, account in foreign)
            raise CredentialKeyError(
                f"the stored credentials of {names} were encrypted with another {SECRET_KEY_VARIABLE}; "
                f"storing more under this key would leave the table under two keys. Re-encrypt them first "
                f"with `pellacia-dist auth rotate-key` (the old key in {OLD_SECRET_KEY_VARIABLE} or on "
                f"standard input), or set {SECRET_KEY_VARIABLE} back to the key they were stored with"
            )


@dataclass(frozen=True)
class KeyRotation:
    """What `rotate_key` did: rows re-encrypted, rows already under the new key, rows dropped."""

    rotated: tuple[tuple[str, str], ...]
    current: tuple[tuple[str, str], ...]
    forgotten: tuple[tuple[str, str], ...]


def _opens(fernet: Fernet | None, ciphertext: bytes) -> bytes | None:
    if fernet is None:
        return None
    try:
        return fernet.decrypt(ciphertext)
    except InvalidToken:
        return None


def unreadable_credentials(session: Session, fernet: Fernet) -> list[tuple[str, str]]:
    """(platform, account) of every stored row that `fernet` cannot decrypt."""
    rows = session.scalars(select(PlatformCredential).order_by(PlatformCredential.platform)).all()
    return [(row.platform, row.account) for row in rows if _opens(fernet, row.ciphertext) is None]


def rotate_key(
    session: Session, old: Fernet | None, new: Fernet, *, forget_unreadable: bool = False
) -> KeyRotation:
    """Re-encrypt every stored row under `new`, in the caller's transaction: all rows or none.

    A row the new key already opens stays as it is (a store left half under each key is mended); a row
    that neither key opens stops the rotation with CredentialKeyError, or with `forget_unreadable` is
    deleted (its account then needs `pellacia-dist auth` again).
    """
    rotated: list[tuple[str, str]] = []
    current: list[tuple[str, str]] = []
    forgotten: list[tuple[str, str]] = []
    unreadable: list[PlatformCredential] = []
    rows = session.scalars(select(PlatformCredential).order_by(PlatformCredential.platform)).all()
    for row in rows:
        name = (row.platform, row.account)
        if _opens(new, row.ciphertext) is not None:
            current.append(name)
            continue
        plaintext = _opens(old, row.ciphertext)
        if plaintext is None:
            unreadable.append(row)
            continue
        row.ciphertext = new.encrypt(plaintext)
        rotated.append(name)
    if unreadable and not forget_unreadable:
        names = ", ".join(f"{row.platform}/{row.account}" for row in unreadable)
        raise CredentialKeyError(
            f"neither the old nor the current key decrypts the stored credentials of {names}; nothing was "
            "changed. Give the key they were stored with, or pass --forget-unreadable to delete them (those "
            "accounts then need `pellacia-dist auth` again)"
        )
    for row in unreadable:
        forgotten.append((row.platform, row.account))
        session.delete(row)
    return KeyRotation(tuple(rotated), tuple(current), tuple(forgotten))


def fernet_from(value: str, variable: str) -> Fernet:
    """A Fernet key given as text (an environment variable, standard input), checked."""
    try:
        return Fernet(value.strip().encode())
    except ValueError as error:
        raise CredentialKeyError(
            f"{variable} is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from error


class EnvironmentOnlyStore:
    """Without PELLACIA_SECRET_KEY nothing is stored, so nothing loads, and refreshes cannot persist.

    Given the app database (`factory`), it can still tell that an account has stored credentials, so the
    error says the key is missing instead of "no credentials".
    """

    persistent = False

    def __init__(self, factory: sessionmaker[Session] | None = None) -> None:
        self.factory = factory

    def locked(self, platform: str, account: str) -> bool:
        """Whether the table holds (encrypted, unreadable without the key) credentials for the account."""
        if self.factory is None:
            return False
        with transaction(self.factory) as session:
            return _credential_row(session, platform, account) is not None

    def load(self, platform: str, account: str) -> TokenSet | None:
        return None

    def save(self, platform: str, account: str, tokens: TokenSet) -> None:
        raise CredentialKeyError(
            f"{platform} issued new tokens for account '{account}' but PELLACIA_SECRET_KEY is not set, "
            "so they cannot be stored encrypted; set it (rotated refresh tokens would be lost)"
        )
