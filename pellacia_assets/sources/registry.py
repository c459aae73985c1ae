"""The sources by name, each built from its environment (`from_env`), for the sensors and the CLI."""

from __future__ import annotations

from pellacia_assets.sources.base import SOURCE_NAMES, Source, SourceConfigError

# What each source's stories are called in the stories table (`source_kind`).
SOURCE_KINDS = {"reddit": "reddit", "feeds": "article", "links": "link"}


def source_named(name: str) -> Source:
    """The source `name` as configured now; `SourceConfigError` when it is unknown or not configured."""
    if name == "reddit":
        from pellacia_assets.sources.reddit import from_env as reddit_from_env

        return reddit_from_env()
    if name == "feeds":
        from pellacia_assets.sources.feeds import from_env as feeds_from_env

        return feeds_from_env()
    if name == "links":
        from pellacia_assets.sources.links import from_env as links_from_env

        return links_from_env()
    raise SourceConfigError(f"unknown source {name!r}: use one of {', '.join(SOURCE_NAMES)}")
