"""Platform tokens kept encrypted in the app database (table platform_credentials)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from resources.database.credentials import delete_credentials, load_credentials, save_credentials
from resources.database.crypto import load_key
from resources.database.engine import transaction
from resources.platforms.tokens import TokenSet


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
        from resources.database.crypto import CredentialKeyError

        raise CredentialKeyError(
            f"{platform} issued new tokens for account '{account}' but PELLACIA_SECRET_KEY is not set, "
            "so they cannot be stored encrypted; set it (rotated refresh tokens would be lost)"
        )
