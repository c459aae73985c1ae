"""The six platforms: one protocol client per module (`youtube`, `tiktok`, ...), pure and usable alone.

`clients` builds any of them from PELLACIA_<PLATFORM>_* settings; `resource` wraps them for Dagster.
"""

from __future__ import annotations

from typing import Literal, get_args

Platform = Literal["youtube", "tiktok", "instagram", "facebook", "x", "linkedin"]
PLATFORMS: tuple[Platform, ...] = get_args(Platform)


class UnknownPlatformError(ValueError):
    """A platform name that is not one of PLATFORMS."""


def platform_named(name: str) -> Platform:
    """`name` as a Platform, or an error that lists the known ones."""
    cleaned = name.strip().lower()
    if cleaned not in PLATFORMS:
        raise UnknownPlatformError(f"unknown platform {name!r}; choose from {', '.join(PLATFORMS)}")
    return cleaned


def parse_platforms(names: str) -> list[Platform]:
    """`all`, or a comma-separated list of known platforms (order kept, duplicates dropped)."""
    if names.strip() == "all":
        return list(PLATFORMS)
    chosen = [name for name in names.split(",") if name.strip()]
    if not chosen:
        raise UnknownPlatformError(f"no platform named; choose from {', '.join(PLATFORMS)} or 'all'")
    return list(dict.fromkeys(platform_named(name) for name in chosen))
