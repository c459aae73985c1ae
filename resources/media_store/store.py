"""The media store: `<root>/<story>/<asset>/...`, written only through staging folders.

An asset writes into a staging folder and the folder replaces the asset's previous output only when the
asset succeeded, so a crash or a refused input never leaves a half-written artefact behind.

A process killed outright (kill -9, power loss) cannot remove its staging folder, so each one is named
after the process writing it (`.staging-<asset>-<pid>-<random>`): a new stage of the same story and asset
removes the leftovers of processes that are gone, and `sweep_staging` does so for the whole store (the
CLI runs it whenever `produce` starts). A folder of a process still running is never touched, so two
runs at once keep their own work. The media store is local to one machine: pids are this machine's.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from resources.processes import process_running

_STAGING_PREFIX = ".staging-"
_OWNER = re.compile(r"-(?P<pid>\d+)-[0-9a-f]{8}$")


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
            if _abandoned(stale):
                shutil.rmtree(stale, ignore_errors=True)
        staging = story_dir / f"{_STAGING_PREFIX}{asset}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if not existed and not any(story_dir.iterdir()):
                story_dir.rmdir()
            raise
        final = story_dir / asset
        retired = story_dir / f"{_STAGING_PREFIX}{asset}-retired-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if final.exists():
            final.rename(retired)
        staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)

    def sweep_staging(self) -> list[Path]:
        """Remove the staging folders that processes no longer running left anywhere in the store (a run
        killed with kill -9); the removed folders come back."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for stale in sorted(self.root.glob(f"*/{_STAGING_PREFIX}*")):
            if stale.is_dir() and _abandoned(stale):
                shutil.rmtree(stale, ignore_errors=True)
                removed.append(stale)
        return removed


def _abandoned(staging: Path) -> bool:
    """True unless the folder's name says it belongs to a process that is still running.

    Folders from before names carried a pid count as abandoned, as every stale folder did then."""
    owner = _OWNER.search(staging.name)
    if owner is None:
        return True
    pid = int(owner.group("pid"))
    return pid != os.getpid() and not process_running(pid)
