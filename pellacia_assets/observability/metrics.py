"""Prometheus metrics of the factory, read from the app database at scrape time.

Nothing is counted in process memory: the database is the record (a dozen processes write it, any of
them may restart), so each scrape reads it in one transaction and reports what it holds now. The counts
are gauges, since rows leave some tables (`queue clear`, cleanup) and a Prometheus counter must never go
down; publish latency is a histogram, since a published ledger row stays published for good.

    pellacia_stories{approval, status}              stories by approval gate and production status
    pellacia_posts{platform, state}                 publish-ledger rows (published, failed, ...)
    pellacia_queue_depth{platform, lane, state}     posts waiting in the posting queue (queued, due)
    pellacia_publish_latency_seconds{platform}      ledger intent written -> post live (histogram)
    pellacia_uploaded_bytes{platform}               bytes of the published videos (the ledger's record)
    pellacia_published_unmeasured{platform}         published posts whose size nobody kept (older rows)
    pellacia_alerts_sent{channel}                   incidents each alert channel delivered
    pellacia_alert_incidents{status}                alert incidents, open and resolved
    pellacia_manual_entries{status, reason}         manual-queue entries
    pellacia_webhook_deliveries{state}              webhook deliveries (pending, delivered, failed, ...)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manifests import ManifestError, VideoManifest, load_video
from pellacia_assets.settings import Settings
from resources.database.engine import transaction
from resources.database.models import (
    AlertIncident,
    LedgerEntry,
    ManualQueueItem,
    QueuedPost,
    StoryRecord,
    WebhookDelivery,
    as_utc,
)
from resources.database.post_queue import WAITING
from resources.media_store.store import MediaStore

LATENCY_BUCKETS_S = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0, 172800.0)


@dataclass
class Snapshot:
    """What one scrape read: counts keyed by their label values."""

    stories: Counter[tuple[str, ...]] = field(default_factory=Counter)
    posts: Counter[tuple[str, ...]] = field(default_factory=Counter)
    queue: Counter[tuple[str, ...]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    uploaded_bytes: Counter[tuple[str, ...]] = field(default_factory=Counter)
    unmeasured: Counter[tuple[str, ...]] = field(default_factory=Counter)
    alerts_sent: Counter[tuple[str, ...]] = field(default_factory=Counter)
    incidents: Counter[tuple[str, ...]] = field(default_factory=Counter)
    manual: Counter[tuple[str, ...]] = field(default_factory=Counter)
    deliveries: Counter[tuple[str, ...]] = field(default_factory=Counter)


def _grouped(
    session: Session, *columns: Any, where: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[str, ...], int]]:
    """(label values, row count) of a GROUP BY over `columns` of one table."""
    statement = select(*columns, func.count()).where(*where).group_by(*columns)
    for row in session.execute(statement):
        *labels, count = row
        yield tuple(str(label) for label in labels), int(count)


def read_snapshot(session: Session, store: MediaStore) -> Snapshot:
    snapshot = Snapshot()
    snapshot.stories.update(dict(_grouped(session, StoryRecord.approval, StoryRecord.status)))
    snapshot.posts.update(dict(_grouped(session, LedgerEntry.platform, LedgerEntry.state)))
    waiting = _grouped(
        session,
        QueuedPost.platform,
        QueuedPost.lane,
        QueuedPost.state,
        where=(QueuedPost.state.in_(WAITING),),
    )
    for (platform, lane, state), count in waiting:
        snapshot.queue[(platform, lane, state)] = count
    published = session.execute(
        select(LedgerEntry.story_key, LedgerEntry.part, LedgerEntry.platform, LedgerEntry.created_at,
               LedgerEntry.published_at, LedgerEntry.video_bytes)
        .where(LedgerEntry.state == "published")
    )  # fmt: skip
    manifests: dict[str, VideoManifest | None] = {}
    for story_key, part, platform, created_at, published_at, video_bytes in published:
        if published_at is not None and created_at is not None:
            seconds = (as_utc(published_at) - as_utc(created_at)).total_seconds()
            snapshot.latencies[platform].append(max(seconds, 0.0))
        size = video_bytes if video_bytes is not None else _video_size(store, manifests, story_key, part)
        if size is None:
            snapshot.unmeasured[(platform,)] += 1
        else:
            snapshot.uploaded_bytes[(platform,)] += size
    for status, delivered in session.execute(select(AlertIncident.status, AlertIncident.delivered)):
        snapshot.incidents[(str(status),)] += 1
        for channel, reason in (delivered or {}).items():
            if reason is None:  # None: the channel took it (resources/alerts/channels.py)
                snapshot.alerts_sent[(str(channel),)] += 1
    snapshot.manual.update(dict(_grouped(session, ManualQueueItem.status, ManualQueueItem.reason)))
    snapshot.deliveries.update(dict(_grouped(session, WebhookDelivery.state)))
    return snapshot


def _video_size(
    store: MediaStore, manifests: dict[str, VideoManifest | None], story_key: str, part: int
) -> int | None:
    """For a row published before the ledger kept sizes: the size the video asset measured for the part,
    while its files are in the store (cleanup removes published videos after a while; then unknown)."""
    if story_key not in manifests:
        try:
            manifests[story_key] = load_video(store, story_key)
        except (FileNotFoundError, ManifestError, ValueError):
            manifests[story_key] = None
    manifest = manifests[story_key]
    if manifest is None:
        return None
    try:
        return manifest.part(part).size_bytes
    except ManifestError:
        return None


def _latency(latencies: dict[str, list[float]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "pellacia_publish_latency_seconds",
        "Time from a post's ledger intent to the post being live, over the published posts.",
        labels=["platform"],
    )
    for platform, values in sorted(latencies.items()):
        buckets = [(repr(bound), float(sum(1 for v in values if v <= bound))) for bound in LATENCY_BUCKETS_S]
        buckets.append(("+Inf", float(len(values))))
        family.add_metric([platform], buckets, sum_value=sum(values))
    return family


def _gauge(
    name: str, documentation: str, labels: list[str], values: Counter[tuple[str, ...]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), float(value))
    return family


class FactoryCollector:
    """A Prometheus collector that reads the app database on every `collect`."""

    def __init__(self, factory: sessionmaker[Session], store: MediaStore) -> None:
        self.factory = factory
        self.store = store

    def collect(self) -> Iterator[Metric]:
        with transaction(self.factory) as session:
            snap = read_snapshot(session, self.store)
        yield _gauge(
            "pellacia_stories", "Stories by approval and status.", ["approval", "status"], snap.stories
        )
        yield _gauge(
            "pellacia_posts", "Publish-ledger rows by platform and state.", ["platform", "state"], snap.posts
        )
        yield _gauge(
            "pellacia_queue_depth",
            "Posts waiting in the posting queue (queued, due).",
            ["platform", "lane", "state"],
            snap.queue,
        )
        yield _latency(snap.latencies)
        yield _gauge(
            "pellacia_uploaded_bytes",
            "Bytes of the published videos whose size the media store still has.",
            ["platform"],
            snap.uploaded_bytes,
        )
        yield _gauge(
            "pellacia_published_unmeasured",
            "Published posts whose video size the media store no longer has (cleaned up).",
            ["platform"],
            snap.unmeasured,
        )
        yield _gauge(
            "pellacia_alerts_sent",
            "Alert incidents each channel delivered.",
            ["channel"],
            snap.alerts_sent,
        )
        yield _gauge("pellacia_alert_incidents", "Alert incidents by status.", ["status"], snap.incidents)
        yield _gauge(
            "pellacia_manual_entries",
            "Manual-queue entries by status and reason.",
            ["status", "reason"],
            snap.manual,
        )
        yield _gauge(
            "pellacia_webhook_deliveries", "Webhook deliveries by state.", ["state"], snap.deliveries
        )


def render_metrics(factory: sessionmaker[Session], store: MediaStore | None = None) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and the content type to serve them with. `store`: the
    media store (default: the one the settings name)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FactoryCollector(factory, store or MediaStore(Settings.from_env().media_dir)))
    return generate_latest(registry), CONTENT_TYPE_LATEST
