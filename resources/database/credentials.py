"""Reading and writing a platform account's tokens; only ciphertext ever reaches the table."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from resources.database.crypto import decrypt, encrypt
from resources.database.models import PlatformCredential


def save_credentials(
    session: Session, fernet: Fernet, platform: str, account: str, secrets: dict[str, Any]
) -> None:
    row = session.scalar(
        select(PlatformCredential).where(
            PlatformCredential.platform == platform, PlatformCredential.account == account
        )
    )
    ciphertext = encrypt(secrets, fernet)
    if row is None:
        session.add(PlatformCredential(platform=platform, account=account, ciphertext=ciphertext))
    else:
        row.ciphertext = ciphertext


def load_credentials(session: Session, fernet: Fernet, platform: str, account: str) -> dict[str, Any] | None:
    row = session.scalar(
        select(PlatformCredential).where(
            PlatformCredential.platform == platform, PlatformCredential.account == account
        )
    )
    return None if row is None else decrypt(row.ciphertext, fernet)


def delete_credentials(session: Session, platform: str, account: str) -> None:
    row = session.scalar(
        select(PlatformCredential).where(
            PlatformCredential.platform == platform, PlatformCredential.account == account
        )
    )
    if row is not None:
        session.delete(row)
