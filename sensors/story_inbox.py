"""A folder sensor: story files dropped into `$PELLACIA_HOME/inbox` become story partitions and runs.

Accepted files move to `inbox/accepted/`, refused ones to `inbox/rejected/` next to a `.error.txt`
saying why, so nothing dropped there is ever lost or silently ignored.
"""

import hashlib
import shutil
from pathlib import Path

import dagster as dg

from pellacia_assets.jobs import production_job
from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.partitions import story_partitions
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import StoryError, read_story_file
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source

STORY_SUFFIXES = (".txt", ".md", ".markdown", ".json")
PRIORITY_TAGS = {"breaking": "10", "normal": "0", "backlog": "-1"}


def inbox_dir() -> Path:
    return Settings.from_env().home / "inbox"


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}{path.suffix}"
    shutil.move(str(path), target)
    return target


@dg.sensor(job=production_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def story_inbox(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    """Turn each story file in the inbox into a story partition and a production run."""
    inbox = inbox_dir()
    files = sorted(p for p in inbox.glob("*") if p.is_file() and p.suffix.lower() in STORY_SUFFIXES)
    if not files:
        return dg.SkipReason(f"no story files in {inbox}")
    keys, runs = [], []
    for path in files:
        try:
            record = read_story_file(path)
        except StoryError as error:
            rejected = _move(path, inbox / "rejected")
            rejected.with_name(rejected.name + ".error.txt").write_text(str(error) + "\n")
            context.log.warning(str(error))
            continue
        with database.session() as session:
            save_source(session, record)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        _move(path, inbox / "accepted")
        keys.append(record.key)
        runs.append(
            dg.RunRequest(
                partition_key=record.key,
                run_key=f"{record.key}:{digest}",
                run_config=run_logging_config(),
                tags={"dagster/priority": PRIORITY_TAGS.get(record.priority, "0")},
            )
        )
    if not keys:
        return dg.SkipReason(f"every new file was refused; see {inbox / 'rejected'}")
    return dg.SensorResult(
        run_requests=runs, dynamic_partitions_requests=[story_partitions.build_add_request(keys)]
    )
