"""The Dagster side of the platform clients: configuration shown in the UI, secrets only through EnvVar."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from resources.database.resource import DatabaseResource
from resources.fallback.build import fallback_publisher
from resources.platforms import Platform, platform_named
from resources.platforms.base import PlatformClient, Publisher
from resources.platforms.clients import build_client, credential_store
from resources.platforms.config import PlatformSettings

SECRET_FIELDS = ("access_token", "refresh_token", "client_secret")


class PlatformResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """One platform account; the subclasses only name their platform (one resource key per platform)."""

    platform: str
    database: DatabaseResource
    urls: dict[str, str]
    account: str = "default"
    account_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    options: dict[str, str] = {}  # noqa: RUF012 - pydantic copies field defaults
    home: str | None = None  # $PELLACIA_HOME: browser sessions and exits for the fallback chain

    @classmethod
    def from_environment(cls, database: DatabaseResource, home: Path | None = None) -> PlatformResource:
        """Settings from PELLACIA_<PLATFORM>_*; secrets stay EnvVar references, never shown in the UI."""
        platform = str(cls.model_fields["platform"].default)
        settings = PlatformSettings.from_env(platform)
        prefix = f"PELLACIA_{platform.upper()}_"
        secrets: dict[str, Any] = {
            field: dg.EnvVar(variable)
            for field in SECRET_FIELDS
            if os.environ.get(variable := f"{prefix}{field.upper()}", "").strip()
        }
        return cls(
            database=database,
            urls=settings.urls,
            account=settings.account,
            account_id=settings.account_id,
            client_id=settings.client_id,
            options=settings.options,
            home=str(home) if home is not None else None,
            **secrets,
        )

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

    def get_client(self) -> PlatformClient:
        """The platform's client (see resources/platforms/<platform>.py), usable outside Dagster too; its
        metered calls share the app database's rate budget."""
        store = credential_store(self.database.url, self.database.schema_name)
        return build_client(self.settings(), store, self.database.session_factory())

    def get_publisher(self, log: Callable[[str], None] | None = None) -> Publisher:
        """What posts go through: the fallback chain over the paths set up under `home` (an exit, a
        browser session; resources/fallback), or the API client alone."""
        if self.home is None:
            return self.get_client()
        store = credential_store(self.database.url, self.database.schema_name)
        return fallback_publisher(
            self.settings(), store, Path(self.home), budget=self.database.session_factory(), log=log
        )


class YouTubeResource(PlatformResource):
    """The YouTube channel (PELLACIA_YOUTUBE_*)."""

    platform: str = "youtube"


class TikTokResource(PlatformResource):
    """The TikTok account (PELLACIA_TIKTOK_*)."""

    platform: str = "tiktok"


class InstagramResource(PlatformResource):
    """The Instagram professional account, Reels via Facebook Login (PELLACIA_INSTAGRAM_*)."""

    platform: str = "instagram"


class FacebookResource(PlatformResource):
    """The Facebook Page (PELLACIA_FACEBOOK_*)."""

    platform: str = "facebook"


class XResource(PlatformResource):
    """The X account (PELLACIA_X_*); options: username (for post URLs), chunk_size (bytes per segment)."""

    platform: str = "x"


class LinkedInResource(PlatformResource):
    """The LinkedIn author, organization page or member (PELLACIA_LINKEDIN_*)."""

    platform: str = "linkedin"


RESOURCE_CLASSES: dict[Platform, type[PlatformResource]] = {
    "youtube": YouTubeResource,
    "tiktok": TikTokResource,
    "instagram": InstagramResource,
    "facebook": FacebookResource,
    "x": XResource,
    "linkedin": LinkedInResource,
}


def platform_resource(
    platform: str, database: DatabaseResource, home: Path | None = None
) -> PlatformResource:
    """The Dagster resource for `platform`, configured from PELLACIA_<PLATFORM>_* variables."""
    return RESOURCE_CLASSES[platform_named(platform)].from_environment(database, home)
