"""What the routes are handed: the settings the app was made with, the app database (the same one the
CLI and the Dagster runs use), the media store and the posting policy.

The database is opened on first use, not when the app is made, so an API whose database is down still
starts and says so on /health.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT, STORY_KEY_PATTERN
from pellacia_assets.posting.policy import PolicyError, PostingPolicy
from pellacia_assets.settings import Settings
from resources.database.engine import open_database
from resources.media_store.store import MediaStore
from resources.platforms import UnknownPlatformError


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_factory(settings: Annotated[Settings, Depends(get_settings)]) -> sessionmaker[Session]:
    return open_database(settings.database_url)


def get_store(settings: Annotated[Settings, Depends(get_settings)]) -> MediaStore:
    return MediaStore(settings.media_dir)


def get_policy() -> PostingPolicy:
    """The posting policy from the environment, as the dispatcher reads it; a setting it cannot read is
    the server's misconfiguration (503), not the request's fault."""
    try:
        return PostingPolicy.from_env()
    except (PolicyError, UnknownPlatformError) as error:
        raise ApiError(503, "misconfigured", str(error)) from None


Factory = Annotated[sessionmaker[Session], Depends(get_factory)]
Store = Annotated[MediaStore, Depends(get_store)]
Policy = Annotated[PostingPolicy, Depends(get_policy)]
CurrentSettings = Annotated[Settings, Depends(get_settings)]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="items to skip")]
KeyPath = Annotated[str, Path(pattern=STORY_KEY_PATTERN, description="a story key")]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]

__all__ = [
    "DEFAULT_LIMIT",
    "CurrentSettings",
    "Factory",
    "IdPath",
    "KeyPath",
    "Limit",
    "Offset",
    "Policy",
    "Store",
    "get_factory",
    "get_policy",
    "get_settings",
    "get_store",
]
