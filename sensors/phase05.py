"""The phase-05 folder: finished videos dropped there are taken and queued; `NAME.breaking` rushes one.

`phase05_drops`, every few seconds: each new `NAME.mp4` + `NAME.json` pair that stayed the same across
two looks (pellacia_assets/delivery/folder.py) has its sidecar read, its video verified whole
(`verify_media`) and held against the limits of the platforms it goes to; then its source record
`phase05-NAME` is saved, the partition added and a `delivery` run requested (run key: name, size and
mtime; `dagster/priority` by lane). A drop that fails is moved to `quarantine/` with `NAME.error.txt`,
gets a manual-queue entry and one alert, and the sensor goes on with the next file.

The cursor stays a few hundred bytes whatever the folder holds, since Dagster stores it with every tick:
the names already taken live packed in the instance's key-value store, written to the slot the committed
cursor does not point at (`folder.save_seen`), so a tick that dies half-way loses nothing and a repeated
tick asks for the same runs again (same run keys: Dagster launches each once). Should that set be lost
(a wiped instance), a name is recognised as taken by its story record.

`phase05_breaking`: a `NAME.breaking` flag moves a taken story's waiting posts to the breaking lane and
makes the story breaking, once (its cursor: the flags acted on); a file not taken yet is taken as
breaking news by the drop sensor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import dagster as dg
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.delivery.folder import (
    Candidate,
    DropCursor,
    Refusal,
    flag_names,
    load_seen,
    plan_quarantine,
    save_seen,
    scan_folder,
)
from pellacia_assets.delivery.normalise import unfixable_problems
from pellacia_assets.delivery.sidecar import Delivery, DeliveryError, read_sidecar
from pellacia_assets.jobs import delivery_job
from pellacia_assets.manual_queue import send_to_manual
from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.partitions import story_partitions
from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.verify import verify_media
from pellacia_assets.settings import Settings
from resources.alerts.channels import Alerter
from resources.alerts.config import AlertConfigError
from resources.alerts.resource import AlertsResource
from resources.database.engine import transaction
from resources.database.models import StoryRecord
from resources.database.post_queue import LANE_RANK, RUN_PRIORITY, raise_to_breaking
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source

SOURCE_KIND = "phase05"
TICK_SECONDS = 3
# Videos verified per tick (each is read whole, a few tenths of a second): at most this many, and no more
# once the tick has spent TICK_BUDGET_S on them (at least one is always taken); the rest wait for the next.
MAX_TAKEN_PER_TICK = 8
TICK_BUDGET_S = 0.5


def story_key(name: str) -> str:
    return f"{SOURCE_KIND}-{name}"


def phase05_dir() -> Path:
    """PELLACIA_PHASE05_DIR, created when missing so that operators find where to drop files."""
    folder = Settings.from_env().phase05_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _Drops:
    """One tick's work on the folder: what is refused goes to the quarantine and the manual queue."""

    def __init__(
        self,
        context: dg.SensorEvaluationContext,
        folder: Path,
        factory: sessionmaker[Session],
        alerts: AlertsResource,
    ) -> None:
        self.context, self.folder, self.factory, self.alerts = context, folder, factory, alerts
        self._alerter: Alerter | None = None

    def alerter(self) -> Alerter:
        """The configured channels; none when they are misconfigured (said in the log each tick), so a
        bad alert setting never keeps a bad file in the folder."""
        if self._alerter is None:
            try:
                self._alerter = self.alerts.get_alerter()
            except AlertConfigError as error:
                self.context.log.error(f"alerts are off: {error}")
                self._alerter = Alerter([])
        return self._alerter

    def refuse(self, refusal: Refusal) -> None:
        """Quarantine the files with their note, after opening the manual entry (and its alert), so a tick
        that fails in between finds the files where they were and does it again."""
        planned = plan_quarantine(self.folder, refusal.name, refusal.paths)
        send_to_manual(
            self.factory, self.alerter(), "quarantined", refusal.reason, source_path=str(planned.main_file)
        )
        planned.carry_out(refusal.reason)
        self.context.log.warning(f"quarantined {refusal.name}: {refusal.reason}")


def _produced_names(session: Session, names: Sequence[str] | None = None) -> frozenset[str]:
    """The names (of `names`, or all) whose phase-05 story has been produced."""
    statement = select(StoryRecord.key).where(
        StoryRecord.source_kind == SOURCE_KIND, StoryRecord.status == "produced"
    )
    if names is not None:
        statement = statement.where(StoryRecord.key.in_([story_key(name) for name in names]))
    return frozenset(key.removeprefix(f"{SOURCE_KIND}-") for key in session.scalars(statement))


def _reused(name: str, paths: tuple[Path, ...]) -> Refusal:
    return Refusal(
        name,
        paths,
        f"{name}: story {story_key(name)} was produced from an earlier drop of that name already; drop the "
        "new video under a new name",
    )


def _video_problem(candidate: Candidate, delivery: Delivery, policy: PostingPolicy) -> str | None:
    """Why the video cannot be posted as its sidecar asks (damaged, no picture, a limit normalising
    cannot meet), or None."""
    name = candidate.video.name
    try:
        info = verify_media(candidate.video)
    except MediaError as error:
        return f"{name} is not a usable video: {str(error).removeprefix(f'{name}: ')}"
    if not info.has_video:
        return f"{name} has no video stream"
    problems = unfixable_problems(info, delivery.platforms or policy.platforms)
    if problems:
        return f"{name} cannot be posted as its sidecar asks: {'; '.join(problems)}"
    return None


@dg.sensor(
    job=delivery_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def phase05_drops(
    context: dg.SensorEvaluationContext, database: DatabaseResource, alerts: AlertsResource
) -> dg.SensorResult:
    """Take each finished video dropped into PELLACIA_PHASE05_DIR: its story, partition and delivery run."""
    folder = phase05_dir()
    cursor = DropCursor.from_json(context.cursor)
    store = context.instance.daemon_cursor_storage
    policy = PostingPolicy.from_env()
    factory = database.session_factory()
    drops = _Drops(context, folder, factory, alerts)
    kept = load_seen(store, folder, cursor.seen) if cursor.seen is not None else None
    if kept is None:
        # No record of the names taken (nothing taken yet, a wiped instance): those produced were taken.
        if cursor.seen is not None:
            context.log.warning("the names already taken are lost; recognising them by their story records")
        with transaction(factory) as session:
            seen = _produced_names(session)
    else:
        seen = kept
    scan = scan_folder(folder, seen, cursor.pending)
    reused: frozenset[str] = frozenset()
    if kept is not None and scan.first_looks:  # a new file under a used name would never be posted
        with transaction(factory) as session:
            reused = _produced_names(session, scan.first_looks)
    pending = {name: look for name, look in scan.pending.items() if name not in reused}
    for refusal in [*scan.refused, *(_reused(name, scan.files[name]) for name in sorted(reused))]:
        drops.refuse(refusal)
    ready: list[tuple[Candidate, Delivery]] = []
    for candidate in scan.stable:
        try:
            ready.append((candidate, read_sidecar(candidate.sidecar, policy.timezone)))
        except DeliveryError as error:
            pending.pop(candidate.name, None)
            drops.refuse(Refusal(candidate.name, (candidate.video, candidate.sidecar), str(error)))
    ready.sort(
        key=lambda item: (LANE_RANK["breaking" if item[0].flagged else item[1].priority], item[0].name)
    )
    runs: list[dg.RunRequest] = []
    keys: list[str] = []
    taken: set[str] = set()
    started = time.monotonic()
    for candidate, delivery in ready[:MAX_TAKEN_PER_TICK]:
        if time.monotonic() - started >= TICK_BUDGET_S:
            break
        pending.pop(candidate.name, None)
        problem = _video_problem(candidate, delivery, policy)
        if problem is not None:
            drops.refuse(Refusal(candidate.name, (candidate.video, candidate.sidecar), problem))
            continue
        lane = "breaking" if candidate.flagged else delivery.priority
        record = replace(delivery, priority=lane).source_record(
            story_key(candidate.name), SOURCE_KIND, candidate.video
        )
        with transaction(factory) as session:
            save_source(session, record)
        taken.add(candidate.name)
        keys.append(record.key)
        runs.append(
            dg.RunRequest(
                partition_key=record.key,
                run_key=f"{record.key}:{candidate.size}:{candidate.mtime_ns}",
                run_config=run_logging_config(),
                tags={"dagster/priority": str(RUN_PRIORITY[lane])},
            )
        )
        context.log.info(f"took {candidate.video.name} as {record.key} ({lane})")
    ref = save_seen(store, folder, cursor.seen, (seen & scan.present) | taken)
    next_cursor = DropCursor(ref, pending).to_json()
    if not runs:
        waiting = f"; {len(pending)} file(s) being watched" if pending else ""
        return dg.SensorResult(skip_reason=f"no new finished drops in {folder}{waiting}", cursor=next_cursor)
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[story_partitions.build_add_request(keys)],
        cursor=next_cursor,
    )


@dg.sensor(minimum_interval_seconds=TICK_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING)
def phase05_breaking(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
    """A `NAME.breaking` flag: the taken story's waiting posts go to the breaking lane, once."""
    folder = phase05_dir()
    try:
        acted = frozenset(str(name) for name in json.loads(context.cursor or "[]"))
    except (ValueError, TypeError):
        acted = frozenset()
    flags = flag_names(folder)
    raised: list[str] = []
    with database.session() as session:
        for name in sorted(flags - acted):
            record = session.get(StoryRecord, story_key(name))
            if record is None:
                continue  # not taken yet: the drop sensor takes it as breaking news
            record.priority = "breaking"
            moved = raise_to_breaking(session, record.key)
            raised.append(name)
            context.log.info(f"{record.key} is breaking news: {len(moved)} waiting post(s) moved up")
    cursor = json.dumps(sorted((acted & flags) | set(raised)), separators=(",", ":"))
    if raised:
        return dg.SensorResult(skip_reason=f"raised to breaking: {', '.join(raised)}", cursor=cursor)
    return dg.SensorResult(skip_reason="no new breaking-news flags", cursor=cursor)
