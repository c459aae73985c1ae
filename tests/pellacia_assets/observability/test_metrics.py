"""The metrics page parses as Prometheus text and reports what the app database really holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.manifests import VIDEO_MANIFEST, VideoManifest, VideoPart, write_manifest
from pellacia_assets.observability.metrics import render_metrics
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.intake import admit, approve, reject
from resources.database.ledger import LedgerJournal, LedgerTarget, open_entry
from resources.database.manual import open_entry as open_manual_entry
from resources.database.models import AlertIncident, LedgerEntry
from resources.database.post_queue import enqueue
from resources.database.stories import set_status
from resources.database.webhooks import emit, register
from resources.media_store.store import MediaStore

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def record(key: str) -> SourceRecord:
    return SourceRecord(key=key, source_kind="reddit", source_ref=key, title=key, body=f"the {key} story")


def published(
    factory: sessionmaker[Session],
    key: str,
    platform: str,
    part: int,
    after_s: float,
    video_bytes: int | None = None,
) -> LedgerJournal:
    digest = f"{key}{platform}{part}".ljust(64, "0")
    journal = open_entry(factory, LedgerTarget(key, part, platform, "main", digest, video_bytes))
    journal.mark_published(f"{key}-{part}", f"https://{platform}.test/{key}-{part}")
    with transaction(factory) as session:  # the intent written `after_s` before the post went live
        live = session.get_one(LedgerEntry, journal.entry_id).published_at
        assert live is not None
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.id == journal.entry_id)
            .values(created_at=live - timedelta(seconds=after_s))
        )
    return journal


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[sessionmaker[Session], MediaStore]:
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    store = MediaStore(tmp_path / "media")
    with transaction(factory) as session:
        register(session, "https://hooks.example/p", ["story.pending", "post.failed"])
        for key in ("flood", "fire", "quake"):
            admit(session, record(key), approval="approved")
        for key in ("rumour", "gossip", "maybe"):
            admit(session, record(key), approval="pending")  # three story.pending deliveries
        approve(session, "maybe", by="editor")
        reject(session, "gossip", "not news", by="editor")
        set_status(session, "flood", "produced")
        set_status(session, "fire", "produced")
        enqueue(session, "fire", 2, [("youtube", "main"), ("x", "main")], lane="breaking")
        enqueue(session, "quake", 1, [("youtube", "main")], lane="backlog")
        session.add(
            AlertIncident(
                incident_key="a",
                cause="run_failed",
                message="m",
                delivered={"telegram": None, "email": "down"},
            )
        )
        session.add(
            AlertIncident(incident_key="b", cause="run_failed", message="m", delivered={"telegram": None})
        )
        session.add(
            AlertIncident(incident_key="c", cause="quarantined", message="m", status="resolved", delivered={})
        )
        open_manual_entry(session, "reauth", "token revoked", story_key="fire", platform="x", account="main")
        emit(session, "story.pending", {"key": "manual"})
    published(factory, "flood", "youtube", 1, after_s=30)
    published(factory, "flood", "youtube", 2, after_s=4000)
    published(factory, "fire", "tiktok", 1, after_s=200_000)  # an older row: no size, no video in the store
    published(factory, "fire", "instagram", 1, after_s=90, video_bytes=3_000_000)  # the ledger kept its size
    open_entry(factory, LedgerTarget("fire", 1, "x", "main", "f" * 64)).mark_failed("refused")  # post.failed
    flood_video = store.asset_dir("flood", "video")
    flood_video.mkdir(parents=True)
    write_manifest(
        flood_video,
        VIDEO_MANIFEST,
        VideoManifest(
            (
                VideoPart(
                    part=1, file="part-1.mp4", poster="p.png", duration_s=50, size_bytes=1_000_000, render_s=9
                ),
                VideoPart(
                    part=2, file="part-2.mp4", poster="p.png", duration_s=40, size_bytes=250_000, render_s=8
                ),
            )
        ),
    )
    return factory, store


def scrape(factory: sessionmaker[Session], store: MediaStore) -> Samples:
    body, content_type = render_metrics(factory, store)
    assert content_type.startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_the_metrics_report_the_database(seeded: tuple[sessionmaker[Session], MediaStore]) -> None:
    samples = scrape(*seeded)
    assert value(samples, "pellacia_stories", approval="approved", status="produced") == 2
    assert value(samples, "pellacia_stories", approval="approved", status="new") == 2  # quake, maybe
    assert value(samples, "pellacia_stories", approval="pending", status="new") == 1
    assert value(samples, "pellacia_stories", approval="rejected", status="new") == 1
    assert value(samples, "pellacia_posts", platform="youtube", state="published") == 2
    assert value(samples, "pellacia_posts", platform="tiktok", state="published") == 1
    assert value(samples, "pellacia_posts", platform="x", state="failed") == 1
    assert value(samples, "pellacia_queue_depth", platform="youtube", lane="breaking", state="queued") == 2
    assert value(samples, "pellacia_queue_depth", platform="x", lane="breaking", state="queued") == 2
    assert value(samples, "pellacia_queue_depth", platform="youtube", lane="backlog", state="queued") == 1
    assert value(samples, "pellacia_uploaded_bytes", platform="youtube") == 1_250_000
    assert value(samples, "pellacia_published_unmeasured", platform="tiktok") == 1
    assert ("pellacia_uploaded_bytes", (("platform", "tiktok"),)) not in samples
    assert value(samples, "pellacia_uploaded_bytes", platform="instagram") == 3_000_000
    assert value(samples, "pellacia_alerts_sent", channel="telegram") == 2
    assert ("pellacia_alerts_sent", (("channel", "email"),)) not in samples
    assert value(samples, "pellacia_alert_incidents", status="open") == 2
    assert value(samples, "pellacia_alert_incidents", status="resolved") == 1
    assert value(samples, "pellacia_manual_entries", status="open", reason="reauth") == 1
    # three pending stories and one hand-made event reached the story.pending subscriber; the failure too
    assert value(samples, "pellacia_webhook_deliveries", state="pending") == 5


def test_publish_latency_is_a_histogram_per_platform(
    seeded: tuple[sessionmaker[Session], MediaStore],
) -> None:
    samples = scrape(*seeded)
    youtube = {"platform": "youtube"}
    assert value(samples, "pellacia_publish_latency_seconds_bucket", le="60.0", **youtube) == 1
    assert value(samples, "pellacia_publish_latency_seconds_bucket", le="3600.0", **youtube) == 1
    assert value(samples, "pellacia_publish_latency_seconds_bucket", le="7200.0", **youtube) == 2
    assert value(samples, "pellacia_publish_latency_seconds_bucket", le="+Inf", **youtube) == 2
    assert value(samples, "pellacia_publish_latency_seconds_count", **youtube) == 2
    assert value(samples, "pellacia_publish_latency_seconds_sum", **youtube) == pytest.approx(4030, abs=1)
    assert value(samples, "pellacia_publish_latency_seconds_bucket", le="172800.0", platform="tiktok") == 0
    assert value(samples, "pellacia_publish_latency_seconds_bucket", le="+Inf", platform="tiktok") == 1


def test_an_empty_database_renders_an_empty_page(tmp_path: Path) -> None:
    factory = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    assert scrape(factory, MediaStore(tmp_path / "media")) == {}
