"""Work handed to a running `pellacia-dist serve`, and `schedule --file`.

While `serve` runs on a home, the commands do not execute jobs in their own process: they put runs in the
instance's run queue through the webserver's GraphQL API (`submit_run`), so the queued run coordinator,
the pools and the runs' `dagster/priority` decide when they run, and the daemon's run monitoring watches
them. Posts are never sent by such a run directly: they are queue rows, sent by the dispatcher sensor in
their slots.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pellacia_assets.cli.production import prepare, require_stories, run_job
from pellacia_assets.cli.serve import ServeError, running_serve
from pellacia_assets.delivery.sidecar import DeliveryError, schedule_time
from pellacia_assets.delivery.sidecar import zone_named as sidecar_zone
from pellacia_assets.observability.dagster_logging import run_logging_config
from pellacia_assets.publishing import UploadTarget
from pellacia_assets.settings import Settings
from resources.database.post_queue import RUN_PRIORITY, QueueError

REPOSITORY_LOCATION = "pellacia"  # workspace.yaml's location_name
PARTITION_TAG = "dagster/partition"
PRIORITY_TAG = "dagster/priority"
WILL_RETRY_TAG = "dagster/will_retry"  # a failed run the daemon will retry (run_retries in dagster.yaml)
PARENT_RUN_ID_TAG = "dagster/parent_run_id"  # on the retry: the run it retries
REQUEST_TIMEOUT_S = 30
PAST_TOLERANCE = timedelta(minutes=1)


class SubmissionError(ServeError):
    """The running `serve` did not take a run (its webserver does not answer, or refused the run)."""


class ScheduleError(QueueError):
    """A `schedule` request that cannot be queued (a time that cannot be read, or is past)."""


def run_link(address: str, run_id: str) -> str:
    """The run's page in the UI of the `serve` at `address`."""
    return f"{address.rstrip('/')}/runs/{run_id}"


def submit_run(address: str, job_name: str, partition_key: str, tags: Mapping[str, str] | None = None) -> str:
    """Put a run of `job_name` for one story partition in the run queue of the `serve` whose UI is at
    `address` (its webserver's GraphQL API); returns the run id. The run starts when the daemon's run
    coordinator dequeues it (`dagster/priority` in `tags` orders it)."""
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    where = urlsplit(address)
    if where.hostname is None:
        raise SubmissionError(f"cannot read the serve's address {address!r}; restart `pellacia-dist serve`")
    client = DagsterGraphQLClient(
        where.hostname,
        port_number=where.port,
        use_https=where.scheme == "https",
        timeout=REQUEST_TIMEOUT_S,
    )
    try:
        run_id: str = client.submit_job_execution(
            job_name,
            repository_location_name=REPOSITORY_LOCATION,
            run_config=run_logging_config(),
            tags={**(tags or {}), PARTITION_TAG: partition_key},
        )
    except DagsterGraphQLClientError as error:
        raise SubmissionError(_refusal(address, job_name, partition_key, error)) from None
    return run_id


def _refusal(address: str, job_name: str, partition_key: str, error: Exception) -> str:
    """One line: the webserver did not answer (a connection refused or timed out), or why it refused."""
    import requests

    causes: list[BaseException] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(causes) < 20:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    unreachable = [cause for cause in causes if isinstance(cause, requests.exceptions.RequestException)]
    if unreachable:
        timed_out = any(isinstance(cause, requests.exceptions.Timeout) for cause in unreachable)
        kind = "timed out" if timed_out else "refused the connection"
        return (
            f"the Dagster webserver of the running `pellacia-dist serve` ({address}) does not answer "
            f"({kind}); wait until it has started, or stop that serve and run the command again"
        )
    reason = ": ".join(str(part).strip().splitlines()[0] for part in error.args if str(part).strip())
    why = reason or "no reason given"
    return f"the serve at {address} refused the {job_name} run of story '{partition_key}' ({why})"


def run_failed(address: str, run_id: str) -> str | None:
    """Why a submitted run will never finish its work (it failed or was canceled, and no retry of it is
    coming: a run that crashed is retried by the daemon as a new run, which is followed), or None."""
    import dagster as dg

    ended = {dg.DagsterRunStatus.FAILURE: "failed", dg.DagsterRunStatus.CANCELED: "was canceled"}
    with dg.DagsterInstance.get() as instance:
        found = instance.get_run_by_id(run_id)
        while found is not None and found.status in ended and found.tags.get(WILL_RETRY_TAG) == "true":
            retried = instance.get_runs(
                filters=dg.RunsFilter(tags={PARENT_RUN_ID_TAG: found.run_id}), limit=1
            )
            if not retried:
                return None  # the retry is not launched yet
            found = retried[0]
    if found is None or found.status not in ended:
        return None
    return f"its delivery run {ended[found.status]}: {run_link(address, found.run_id)}"


def lane_of(settings: Settings, key: str) -> str:
    """The story's lane (its source's priority), which gives its runs their `dagster/priority`."""
    from resources.database.engine import open_database, transaction
    from resources.database.models import StoryRecord

    with transaction(open_database(settings.database_url)) as session:
        record = session.get(StoryRecord, key)
        lane = record.priority if record is not None else "normal"
    return lane if lane in RUN_PRIORITY else "normal"


def priority_tags(lane: str) -> dict[str, str]:
    return {PRIORITY_TAG: str(RUN_PRIORITY[lane])}


def submit_stories(settings: Settings, address: str, job_name: str, keys: Sequence[str], verb: str) -> int:
    """`produce` with `serve` running: one run per story in the serve's queue, in the story's priority."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        require_stories(instance, keys)
    print(f"`pellacia-dist serve` runs on this home: {verb} runs go to its run queue (UI: {address})")
    for key in keys:
        lane = lane_of(settings, key)
        run_id = submit_run(address, job_name, key, priority_tags(lane))
        print(f"submitted {key}: run {run_id} ({lane} priority) {run_link(address, run_id)}", flush=True)
    return 0


def queue_stories(settings: Settings, address: str, keys: Sequence[str]) -> int:
    """`publish` with `serve` running: the produced stories' posts are queued (most already were, when the
    video was made), and the serve's dispatcher sends each in its account's slot."""
    import dagster as dg

    from pellacia_assets.manifests import ManifestError, load_video
    from pellacia_assets.posting.policy import PostingPolicy
    from pellacia_assets.posting.producers import queue_story
    from resources.database.engine import open_database, transaction
    from resources.database.models import StoryRecord, as_utc
    from resources.media_store.store import MediaStore

    with dg.DagsterInstance.get() as instance:
        require_stories(instance, keys)
    policy = PostingPolicy.from_env()
    store = MediaStore(settings.media_dir)
    failed = False
    print(
        f"`pellacia-dist serve` runs on this home: its dispatcher sends the posts in their slots ({address})"
    )
    with transaction(open_database(settings.database_url)) as session:
        for key in keys:
            record = session.get(StoryRecord, key)
            if record is None or record.status != "produced":
                status = record.status if record is not None else "unknown"
                print(f"FAILED {key}: not produced (status {status}); run: pellacia-dist produce {key}")
                failed = True
                continue
            try:
                parts = len(load_video(store, key).parts)
            except (ManifestError, OSError) as error:
                print(f"FAILED {key}: its videos cannot be read ({error}); produce it again")
                failed = True
                continue
            for row in queue_story(session, key, parts, policy):
                when = policy.local(as_utc(row.not_before)).strftime("%Y-%m-%d %H:%M:%S %Z")
                print(
                    f"#{row.id} {key} part {row.part} on {row.platform} ({row.account}): {row.state}, "
                    f"not before {when} ({row.lane} lane)"
                )
    return 1 if failed else 0


@dataclass(frozen=True)
class Delivery:
    """How the delivery run of an uploaded file went: submitted to `serve` (`run_id`, `link`; its outcome
    comes later) or run here (`ok`, `detail`)."""

    ok: bool
    detail: str
    run_id: str | None = None
    link: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail, "run_id": self.run_id, "link": self.link}


def deliver(settings: Settings, key: str, lane: str, address: str | None, out: IO[str]) -> Delivery:
    """The delivery run (story, script, video) of an uploaded file: the video asset validates it, marks
    the story produced and queues its posts (they exist already: nothing doubles), so the dispatcher can
    send them. Submitted to the running `serve` (at `address`), else run in this process."""
    import dagster as dg

    from pellacia_assets.jobs import delivery_job

    prepare(settings)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("story", [key])
    if address is not None:
        run_id = submit_run(address, delivery_job.name, key, priority_tags(lane))
        link = run_link(address, run_id)
        return Delivery(True, f"validated by run {run_id} in the running serve: {link}", run_id, link)
    [outcome] = run_job(delivery_job.name, [key], "validating", tags=priority_tags(lane), out=out)
    if outcome.ok:
        return Delivery(True, f"validated in {outcome.detail}")
    return Delivery(False, f"the delivery run failed: {outcome.detail}")


def cancel_waiting(settings: Settings, targets: Sequence[UploadTarget], reason: str) -> None:
    """Take out of the queue the posts of a file whose delivery failed: they could never be sent, and
    the same command run again (after fixing the file) queues them again."""
    from resources.database.engine import open_database, transaction
    from resources.database.post_queue import WAITING, get_row, mark_outcome

    with transaction(open_database(settings.database_url)) as session:
        for target in targets:
            if target.queue_id is not None and get_row(session, target.queue_id).state in WAITING:
                mark_outcome(session, target.queue_id, "cancelled", reason)


def parse_at(text: str, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """`--at "2026-12-27 14:00"` (ISO 8601; `T` or a space; seconds and an offset optional) read in
    `zone` unless it carries its own offset, as a sidecar's `scheduled_at` is; a local time the clocks
    skip, and one more than a minute past, are refused."""
    if len(text.strip()) <= len("2026-12-27"):
        raise ScheduleError(f"--at {text!r}: expected a date and a time, e.g. '2026-12-27 14:00'")
    try:
        moment = schedule_time(text, zone, "schedule", field="--at")
    except DeliveryError as error:
        raise ScheduleError(f"{error} (expected a date and a time, e.g. '2026-12-27 14:00')") from None
    current = now or datetime.now(UTC)
    if moment < current - PAST_TOLERANCE:
        there = current.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        raise ScheduleError(f"--at {text!r} is in the past (it is {there} there now)")
    return max(moment, current)


def zone_named(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return sidecar_zone(name, "schedule", field="--timezone")
    except DeliveryError as error:
        raise ScheduleError(str(error)) from None


def cmd_schedule_add(settings: Settings, args: argparse.Namespace) -> int:
    """`schedule --platforms P,..|all --file video.mp4 --at TIME [--timezone TZ] [--title --description
    --hashtags --priority] [--json]`: the file verified, saved as a story of its own (source kind
    `upload`), one queue row per platform account not before `--at` (nor the account's next free slot),
    and its delivery run executed here or submitted to the running `serve`; prints the queue ids."""
    from pellacia_assets.posting.policy import PostingPolicy
    from pellacia_assets.publishing import queue_upload, upload_request
    from pellacia_assets.stories.loading import strip_controls
    from resources.database.engine import open_database
    from resources.database.post_queue import lane_named
    from resources.platforms import parse_platforms

    platforms = parse_platforms(args.platforms)
    lane = lane_named(args.priority or "normal")
    policy = PostingPolicy.from_env()
    zone = zone_named(args.timezone, policy.timezone)
    at = parse_at(args.at, zone)
    out = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    video = Path(args.file)
    request = upload_request(
        video,
        strip_controls(args.title or video.stem),
        strip_controls(args.description or ""),
        [tag for tag in (args.hashtags or "").split() if tag],
        log=say,
    )
    address = running_serve(settings)
    targets = queue_upload(open_database(settings.database_url), request, platforms, policy, lane=lane, at=at)
    if any(target.state in ("queued", "due") for target in targets):
        delivery = deliver(settings, request.story_key, lane, address, out)
    else:
        delivery = Delivery(True, "nothing waits to go out: every post of this request is settled")
    if not delivery.ok:
        cancel_waiting(settings, targets, delivery.detail)
    skipped = [target for target in targets if target.duplicate is not None]
    if args.json:
        print(json.dumps(_schedule_report(request.story_key, lane, at, targets, delivery), indent=2))
    else:
        print(f"scheduled '{request.story_key}' ({lane} lane), not before {_local(at, zone)}:")
        for target in targets:
            print("  " + _schedule_line(target, zone))
        print(delivery.detail)
    return 0 if delivery.ok and not skipped else 1


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _schedule_line(target: UploadTarget, zone: ZoneInfo) -> str:
    if target.duplicate is not None:
        return f"{target.platform:10} skipped: {target.duplicate}"
    why = f" ({target.reason})" if target.reason else ""
    return (
        f"#{target.queue_id} {target.platform:10} account '{target.account}': {target.state}, "
        f"goes out at {_local(target.slot, zone)}{why}"
    )


def _schedule_report(
    key: str, lane: str, at: datetime, targets: Sequence[UploadTarget], delivery: Delivery
) -> dict[str, object]:
    return {
        "story_key": key,
        "lane": lane,
        "at": at.isoformat(),
        "delivery": delivery.to_dict(),
        "queued": [
            {
                "id": target.queue_id,
                "platform": target.platform,
                "account": target.account,
                "state": target.state,
                "not_before": target.slot.isoformat(),
                "reason": target.reason or None,
                "error": target.duplicate,
            }
            for target in targets
        ],
    }
