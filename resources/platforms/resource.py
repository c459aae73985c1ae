"""The Dagster side of a platform client: configuration shown in the UI, secrets only through EnvVar."""

from __future__ import annotations

import os
from abc import abstractmethod
from typing import Any

import dagster as dg

from resources.database import open_database
from resources.database.crypto import SECRET_KEY_VARIABLE
from resources.platforms.base import PlatformClient
from resources.platforms.config import PlatformSettings
from resources.platforms.credential_store import DatabaseCredentialStore, EnvironmentOnlyStore
from resources.platforms.tokens import CredentialStore


class PlatformResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """One platform account; subclasses say how to build their client from settings and a token store."""

    platform: str
    database_url: str
    urls: dict[str, str]
    account: str = "default"
    account_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    options: dict[str, str] = {}  # noqa: RUF012 - pydantic copies field defaults

    @classmethod
    def from_environment(cls, database_url: str, deferred_secrets: bool = True) -> PlatformResource:
        """Settings from PELLACIA_<PLATFORM>_*; in Dagster, secrets stay EnvVar references (never shown).

        Outside Dagster (the CLI) `deferred_secrets=False` reads their values directly.
        """
        platform = str(cls.model_fields["platform"].default)
        settings = PlatformSettings.from_env(platform)
        prefix = f"PELLACIA_{platform.upper()}_"
        secrets: dict[str, Any] = {
            field: dg.EnvVar(variable) if deferred_secrets else os.environ[variable].strip()
            for field in ("access_token", "refresh_token", "client_secret")
            if os.environ.get(variable := f"{prefix}{field.upper()}", "").strip()
        }
        fields: dict[str, Any] = {
            "database_url": database_url,
            "urls": settings.urls,
            "account": settings.account,
            "account_id": settings.account_id,
            "client_id": settings.client_id,
            "options": settings.options,
            **secrets,
        }
        return cls(**fields)

    def settings(self) -> PlatformSettings:
        return PlatformSettings(
            platform=self.platform,
            urls=dict(self.urls),
            account=self.account,
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            client_id=self.client_id,
            client_secret=self.client_secret,
            account_id=self.account_id,
            options=dict(self.options),
        )

    def credential_store(self) -> CredentialStore:
        if not os.environ.get(SECRET_KEY_VARIABLE, "").strip():
            return EnvironmentOnlyStore()
        return DatabaseCredentialStore(open_database(self.database_url))

    def get_client(self) -> PlatformClient:
        return self.build_client(self.settings(), self.credential_store())

    @abstractmethod
    def build_client(self, settings: PlatformSettings, store: CredentialStore) -> PlatformClient:
        """The platform's client, usable on its own outside Dagster too."""
