"""Platform name -> its Dagster resource class: the one place that lists the six clients."""

from __future__ import annotations

from resources.platforms.base import PlatformClient
from resources.platforms.config import PLATFORMS
from resources.platforms.facebook import FacebookResource
from resources.platforms.instagram import InstagramResource
from resources.platforms.linkedin import LinkedInResource
from resources.platforms.resource import PlatformResource
from resources.platforms.tiktok import TikTokResource
from resources.platforms.x import XResource
from resources.platforms.youtube import YouTubeResource

RESOURCE_CLASSES: dict[str, type[PlatformResource]] = {
    "youtube": YouTubeResource,
    "tiktok": TikTokResource,
    "instagram": InstagramResource,
    "facebook": FacebookResource,
    "x": XResource,
    "linkedin": LinkedInResource,
}
assert tuple(RESOURCE_CLASSES) == PLATFORMS


def platform_resource(platform: str, database_url: str) -> PlatformResource:
    """The Dagster resource for `platform`, configured from PELLACIA_<PLATFORM>_* variables."""
    return _resource_class(platform).from_environment(database_url)


def platform_client(platform: str, database_url: str) -> PlatformClient:
    """The client for `platform` outside Dagster (CLI), configured from the same variables."""
    return _resource_class(platform).from_environment(database_url, deferred_secrets=False).get_client()


def _resource_class(platform: str) -> type[PlatformResource]:
    try:
        return RESOURCE_CLASSES[platform]
    except KeyError:
        raise ValueError(f"unknown platform {platform!r}; choose from {', '.join(PLATFORMS)}") from None
