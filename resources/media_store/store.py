"""The media store: `<root>/<story>/<asset>/...`, written only through staging folders.

An asset writes into a staging folder and the folder replaces the asset's previous output only when the
asset succeeded, so a crash or a refused input never leaves a half-written artefact behind.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_STAGING_PREFIX = ".staging-"


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def story_dir(self, story_key: str) -> Path:
        if not story_key or "/" in story_key or story_key.startswith("."):
            raise ValueError(f"invalid story key {story_key!r}")
        return self.root / story_key

    def asset_dir(self, story_key: str, asset: str) -> Path:
        return self.story_dir(story_key) / asset

    def require(self, story_key: str, asset: str, name: str) -> Path:
        """A file an upstream asset wrote, or a clear error saying which asset to materialise first."""
        path = self.asset_dir(story_key, asset) / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: materialise the '{asset}' asset for story '{story_key}' first"
            )
        return path

    @contextmanager
    def stage(self, story_key: str, asset: str) -> Iterator[Path]:
        """A fresh folder that becomes `<story>/<asset>/` when the block ends without an error."""
        story_dir = self.story_dir(story_key)
        existed = story_dir.exists()
        story_dir.mkdir(parents=True, exist_ok=True)
        for stale in story_dir.glob(f"{_STAGING_PREFIX}{asset}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = story_dir / f"{_STAGING_PREFIX}{asset}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if not existed and not any(story_dir.iterdir()):
                story_dir.rmdir()
            raise
        final = story_dir / asset
        retired = story_dir / f"{_STAGING_PREFIX}{asset}-retired-{uuid.uuid4().hex[:8]}"
        if final.exists():
            final.rename(retired)
        staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
