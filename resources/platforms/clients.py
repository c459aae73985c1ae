"""Platform name -> its client: the one place that lists the six clients, for Dagster and the CLI alike."""

from __future__ import annotations

import os

from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import DEFAULT_SCHEMA, open_database
from resources.platforms import PLATFORMS, Platform, platform_named
from resources.platforms.base import PlatformClient
from resources.platforms.client_base import PlatformClientBase
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import (
    SECRET_KEY_VARIABLE,
    CredentialStore,
    DatabaseCredentialStore,
    EnvironmentOnlyStore,
)
from resources.platforms.facebook import FacebookClient
from resources.platforms.http import RetryPolicy
from resources.platforms.instagram import InstagramClient
from resources.platforms.linkedin import LinkedInClient
from resources.platforms.tiktok import TikTokClient
from resources.platforms.x import XClient
from resources.platforms.youtube import YouTubeClient

CLIENT_CLASSES: dict[Platform, type[PlatformClientBase]] = {
    "youtube": YouTubeClient,
    "tiktok": TikTokClient,
    "instagram": InstagramClient,
    "facebook": FacebookClient,
    "x": XClient,
    "linkedin": LinkedInClient,
}
assert tuple(CLIENT_CLASSES) == PLATFORMS


def credential_store(database_url: str, schema: str = DEFAULT_SCHEMA) -> CredentialStore:
    """Encrypted stored tokens when PELLACIA_SECRET_KEY is set; otherwise the environment's alone (the
    database is still asked whether the account has stored tokens, so a missing key is named as such)."""
    if not os.environ.get(SECRET_KEY_VARIABLE, "").strip():
        return EnvironmentOnlyStore(open_database(database_url, schema))
    return DatabaseCredentialStore(open_database(database_url, schema))


def build_client(
    settings: PlatformSettings,
    store: CredentialStore,
    budget: sessionmaker[Session] | None = None,
    proxy: str | None = None,
    retry: RetryPolicy | None = None,
) -> PlatformClient:
    """The client of `settings.platform`, with its tokens loaded from `store` first; its metered calls
    (analytics) go through the shared rate budget in `budget`'s database when given, and all of its HTTP
    through `proxy` (a VPN/proxy exit's URL, see exits.py) when given; `retry` how hard it tries a call
    (the fallback chain tries less: its next path is the retry)."""
    client_class = CLIENT_CLASSES[platform_named(settings.platform)]
    return client_class(settings, store, budget=budget, proxy=proxy, retry=retry)


def client_from_env(
    platform: str, database_url: str, schema: str = DEFAULT_SCHEMA, proxy: str | None = None
) -> PlatformClient:
    """The client outside Dagster (CLI, scripts), configured from PELLACIA_<PLATFORM>_* variables, with
    the app database's rate budget, through `proxy` when given."""
    return build_client(
        PlatformSettings.from_env(platform),
        credential_store(database_url, schema),
        open_database(database_url, schema),
        proxy,
    )
