"""The publisher of one platform account as the environment configures it: the API client alone where no
other path is set up (the behaviour before the chain existed), else the fallback chain over every layer
of PELLACIA_<PLATFORM>_FALLBACK that is set up (exits configured, a browser session stored)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from resources.browser.config import uploader_from_env
from resources.browser.flow import available_flows
from resources.browser.sessions import SessionStore
from resources.database.engine import DEFAULT_SCHEMA, open_database
from resources.fallback.chain import FallbackPublisher
from resources.fallback.order import Layer, forced_through_exits, order_from_env, path_of, through_exit
from resources.platforms.base import Publisher
from resources.platforms.clients import build_client, credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import CredentialStore
from resources.platforms.exits import exits_for, pool_from_env
from resources.platforms.http import RetryPolicy

# With another path to fall back on, a call is tried twice, not five times: the next path is the retry.
CHAIN_RETRY = RetryPolicy(max_attempts=2, base_delay_s=1.0)


def browser_ready(platform: str, account: str, home: Path) -> bool:
    """Whether the account has a browser path: a flow for the platform and a session stored once (an
    expired one too: the chain then asks a person to log in again, rather than skip it silently)."""
    return platform in available_flows() and SessionStore.for_home(home).exists(platform, account)


def fallback_publisher(
    settings: PlatformSettings,
    store: CredentialStore,
    home: Path,
    *,
    budget: sessionmaker[Session] | None = None,
    force_exit: bool = False,
    environ: Mapping[str, str] = os.environ,
    log: Callable[[str], None] | None = None,
) -> Publisher:
    """See the module docstring; `force_exit` leaves out the direct layers (`--force-vpn-fallback`)."""
    platform = settings.platform
    order: tuple[Layer, ...] = order_from_env(platform, environ)
    if force_exit:
        order = forced_through_exits(order, platform)
    has_exits = bool(exits_for(platform, environ))
    has_browser = browser_ready(platform, settings.account, home)
    usable = [
        layer
        for layer in order
        if layer != "manual"
        and (not through_exit(layer) or has_exits)
        and (path_of(layer) == "api" or has_browser)
    ]
    if usable == ["api"] and not force_exit:
        return build_client(settings, store, budget)

    def api(proxy: str | None) -> Publisher:
        return build_client(settings, store, budget, proxy, retry=CHAIN_RETRY)

    def browser(proxy: str | None) -> Publisher:
        return uploader_from_env(platform, home, account=settings.account, proxy=proxy)

    return FallbackPublisher(
        platform,
        settings.account,
        order,
        api=api,
        browser=browser if has_browser else None,
        exits=pool_from_env(home, environ) if has_exits else None,
        log=log,
    )


def publisher_from_env(
    platform: str,
    database_url: str,
    home: Path,
    *,
    schema: str = DEFAULT_SCHEMA,
    force_exit: bool = False,
    log: Callable[[str], None] | None = None,
) -> Publisher:
    """The account's publisher outside Dagster (the CLI), configured from PELLACIA_* variables."""
    return fallback_publisher(
        PlatformSettings.from_env(platform),
        credential_store(database_url, schema),
        home,
        budget=open_database(database_url, schema),
        force_exit=force_exit,
        log=log,
    )
