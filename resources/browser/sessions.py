"""Logged-in browser sessions, kept encrypted, one per platform account, used by one browser at a time.

A session is Playwright's `storage_state` (cookies and local storage) plus what was learnt with it (the
account's user name on the site). It is encrypted with the same Fernet key as the platform tokens
(PELLACIA_SECRET_KEY, credentials.load_key) and kept under `$PELLACIA_HOME/sessions/<platform>/<account>/`,
with the lock file that lets only one browser use the account at a time: two browsers on one account
would race each other's cookies and look like a bot to the platform.

When the platform sends a stored session to its login page, the session is marked expired, so later
uploads fail at once with "log in again" instead of opening a browser each time (and nothing ever logs
in by itself: a person does, with `pellacia-dist browser login`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from resources.platforms.credentials import SECRET_KEY_VARIABLE, CredentialKeyError, load_key

SESSION_FILE = "session.enc"
LOCK_FILE = "browser.lock"
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")


class SessionLockTimeoutError(TimeoutError):
    """Another browser kept the account for longer than the wait allowed."""


@dataclass(frozen=True)
class StoredSession:
    """A platform account's browser session. `source`: "login", "cookies" or "upload" (refreshed after
    an upload); `expired_at`: when the platform was last seen refusing it (ISO time), else None."""

    storage_state: dict[str, Any]
    username: str | None = None
    source: str = "login"
    saved_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    expired_at: str | None = None

    def cookie(self, name: str) -> str | None:
        return next(
            (str(c.get("value")) for c in self.storage_state.get("cookies", ()) if c.get("name") == name),
            None,
        )


def account_named(account: str) -> str:
    """`account` when it is usable as a folder name (no separators, no leading dot)."""
    if not _ACCOUNT.match(account):
        raise ValueError(
            f"account name {account!r} may hold only letters, digits and _ . @ + - "
            "(and not start with . or -)"
        )
    return account


class SessionStore:
    """Encrypted sessions under `root` (`$PELLACIA_HOME/sessions`); the key comes from `key()` at each
    use (PELLACIA_SECRET_KEY by default), so a missing key is said when a session is read or written."""

    def __init__(self, root: Path, key: Callable[[], Fernet] = load_key) -> None:
        self.root = root
        self.key = key

    @classmethod
    def for_home(cls, home: Path) -> SessionStore:
        return cls(home / "sessions")

    def folder(self, platform: str, account: str) -> Path:
        return self.root / platform / account_named(account)

    def exists(self, platform: str, account: str) -> bool:
        return (self.folder(platform, account) / SESSION_FILE).is_file()

    def load(self, platform: str, account: str) -> StoredSession | None:
        path = self.folder(platform, account) / SESSION_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(self.key().decrypt(path.read_bytes()))
        except InvalidToken:
            raise CredentialKeyError(
                f"the stored {platform} session of account '{account}' cannot be decrypted with this "
                f"{SECRET_KEY_VARIABLE}; set the key it was saved with, or log in again"
            ) from None
        return StoredSession(**data)

    def save(self, platform: str, account: str, session: StoredSession) -> Path:
        """Write the session encrypted (owner-only), replacing the old one in one step."""
        folder = self.folder(platform, account)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / SESSION_FILE
        ciphertext = self.key().encrypt(json.dumps(asdict(session), sort_keys=True).encode())
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(ciphertext)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
        return path

    def mark_expired(self, platform: str, account: str) -> None:
        session = self.load(platform, account)
        if session is not None and session.expired_at is None:
            self.save(
                platform,
                account,
                replace(session, expired_at=datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def forget(self, platform: str, account: str) -> bool:
        """Delete the stored session; False when there was none."""
        path = self.folder(platform, account) / SESSION_FILE
        if not path.is_file():
            return False
        path.unlink()
        return True

    @contextmanager
    def lock(self, platform: str, account: str, timeout_s: float) -> Iterator[None]:
        """Hold the account's browser lock (an flock, so a killed process releases it), waiting up to
        `timeout_s` for another browser to finish."""
        folder = self.folder(platform, account)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (folder / LOCK_FILE).open("a") as handle:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SessionLockTimeoutError(
                            f"another browser has used {platform} account '{account}' for over "
                            f"{timeout_s:g} s"
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
