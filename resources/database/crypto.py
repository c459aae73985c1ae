"""Encryption at rest for platform credentials, with a key that only the environment holds."""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

SECRET_KEY_VARIABLE = "PELLACIA_SECRET_KEY"


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
