"""The media store as a Dagster resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from resources.media_store.store import MediaStore


class MediaStoreResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where every story's artefacts live (default `$PELLACIA_HOME/media`)."""

    root: str

    def get_store(self) -> MediaStore:
        return MediaStore(Path(self.root))
