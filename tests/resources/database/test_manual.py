"""The manual queue's table: one open entry per target and reason, and resolving writes the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import DuplicateVideoError, LedgerTarget, Settled, claim_entry
from resources.database.manual import (
    REASONS,
    ManualError,
    get_entry,
    list_entries,
    open_entry,
    post_id_from_url,
    reason_for_error,
    resolve_entry,
)
from resources.database.models import LedgerEntry, QueuedPost
from resources.database.post_queue import enqueue
from resources.database.stories import save_source
from resources.platforms import tiktok, youtube
from resources.platforms.base import sha256_of
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError

STORY = "harbour-lights"


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    made = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    with transaction(made) as session:
        for key in (STORY, "other-story"):
            save_source(
                session, SourceRecord(key=key, source_kind="file", source_ref="", title="t", body="b")
            )
    return made


def queued_row(factory: sessionmaker[Session], platform: str = "youtube", part: int = 1) -> int:
    with transaction(factory) as session:
        rows = enqueue(session, STORY, 2, [(platform, "main")])
        row = next(row for row in rows if row.part == part)
        row.state = "publishing"
        session.flush()
        return row.id


def test_an_open_entry_is_found_again_not_duplicated(factory: sessionmaker[Session]) -> None:
    post = partial(open_entry, story_key=STORY, platform="youtube", account="main")
    with transaction(factory) as session:
        first = post(session, "reauth", "token refused")
        again = post(session, "reauth", "token refused again", run_id="run-2")
        other_reason = post(session, "policy", "declaration missing")
        other_part = post(session, "reauth", "token refused", part=2)
        dropped = open_entry(session, "quarantined", "bad sidecar", source_path="/drop/quarantine/a.mp4")
        dropped_again = open_entry(session, "quarantined", "still bad", source_path="/drop/quarantine/a.mp4")
        assert again.id == first.id and again.detail == "token refused again" and again.run_id == "run-2"
        assert len({first.id, other_reason.id, other_part.id, dropped.id}) == 4
        assert dropped_again.id == dropped.id
        assert [entry.id for entry in list_entries(session)] == sorted(
            [first.id, other_reason.id, other_part.id, dropped.id]
        )
        assert list_entries(session, "resolved") == []
        with pytest.raises(ManualError, match="unknown manual reason 'bored'"):
            open_entry(session, "bored", "x", story_key=STORY)
        with pytest.raises(ManualError, match="needs a story or a file"):
            open_entry(session, "policy", "x")
        with pytest.raises(ManualError, match="unknown status"):
            list_entries(session, "closed")
        with pytest.raises(ManualError, match="no manual entry with id 999"):
            get_entry(session, 999)
    assert REASONS == (
        "reauth",
        "policy",
        "media_rejected",
        "retries_exhausted",
        "quarantined",
        "captcha",
        "all_paths_failed",
    )


def test_an_entry_from_a_queue_row_names_its_post(factory: sessionmaker[Session]) -> None:
    queue_id = queued_row(factory, "tiktok", part=2)
    with transaction(factory) as session:
        entry = open_entry(session, "retries_exhausted", "run failed", queue_id=queue_id)
        assert (entry.story_key, entry.part, entry.platform, entry.account) == (STORY, 2, "tiktok", "main")


def test_resolving_records_the_hand_made_post_so_it_is_never_posted_again(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    video = tmp_path / "part-1.mp4"
    video.write_bytes(b"a video's bytes")
    queue_id, later_id = queued_row(factory), queued_row(factory, part=2)
    with transaction(factory) as session:
        entry = open_entry(session, "reauth", "token refused", queue_id=queue_id)
        sibling = open_entry(session, "retries_exhausted", "run failed", queue_id=queue_id)
        other = open_entry(session, "reauth", "token refused", queue_id=later_id)
        session.get_one(QueuedPost, queue_id).state = "manual"
    with transaction(factory) as session:
        resolved = resolve_entry(session, entry.id, "https://youtube.com/shorts/AbC_123-xy", video=video)
        assert (
            resolved.status == "resolved" and resolved.resolved_url == "https://youtube.com/shorts/AbC_123-xy"
        )
        assert get_entry(session, sibling.id).status == "resolved"  # the same post: done as well
        assert get_entry(session, other.id).status == "open"  # part 2 is still to do
        ledger = session.scalars(select(LedgerEntry)).one()
        assert (ledger.state, ledger.post_id, ledger.account) == ("published", "AbC_123-xy", "main")
        assert ledger.video_sha256 == sha256_of(video) and resolved.ledger_id == ledger.id
        assert ledger.published_at is not None
        row = session.get_one(QueuedPost, queue_id)
        assert (row.state, row.ledger_id) == ("published", ledger.id)
    with transaction(factory) as session, pytest.raises(ManualError, match="already resolved"):
        resolve_entry(session, entry.id, "https://youtube.com/shorts/AbC_123-xy")
    # the factory never posts it again, and the same file is known to be on the account
    target = LedgerTarget(STORY, 1, "youtube", "main", sha256_of(video))
    settled = claim_entry(factory, target)
    assert isinstance(settled, Settled) and settled.published
    with pytest.raises(DuplicateVideoError, match="already went to youtube"):
        claim_entry(factory, LedgerTarget("other-story", 1, "youtube", "main", sha256_of(video)))


def test_resolving_settles_the_ledger_row_an_attempt_left(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        failed = LedgerEntry(
            story_key=STORY, part=1, platform="x", account="main", video_sha256="f" * 64, state="failed",
            platform_ids={"media_id": "77"}, attempts=3, last_error="401",
        )  # fmt: skip
        session.add(failed)
        session.flush()
        entry = open_entry(session, "reauth", "401", story_key=STORY, platform="x", account="main")
    with transaction(factory) as session:
        resolve_entry(session, entry.id, "https://x.com/pellacia/status/1790000000000000001")
        ledger = session.scalars(select(LedgerEntry)).one()
        assert (ledger.state, ledger.post_id, ledger.video_sha256) == (
            "published",
            "1790000000000000001",
            "f" * 64,
        )
        assert ledger.platform_ids["media_id"] == "77" and ledger.last_error is None


def test_a_post_the_ledger_already_has_or_is_publishing_is_not_overwritten(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        live = LedgerEntry(
            story_key=STORY, part=1, platform="youtube", account="main", video_sha256="a" * 64,
            state="published", post_id="live1", url="https://www.youtube.com/watch?v=live1", platform_ids={},
        )  # fmt: skip
        busy = LedgerEntry(
            story_key=STORY, part=2, platform="youtube", account="main", video_sha256="b" * 64,
            state="uploading", platform_ids={}, claim_owner="somewhere/1/2/3/abcd1234",
            claim_expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )  # fmt: skip
        session.add_all([live, busy])
        first = open_entry(session, "policy", "x", story_key=STORY, platform="youtube", account="main")
        second = open_entry(
            session, "policy", "x", story_key=STORY, part=2, platform="youtube", account="main"
        )
    with transaction(factory) as session, pytest.raises(ManualError, match=r"already has .* live on youtube"):
        resolve_entry(session, first.id, "https://youtube.com/shorts/other1")
    with transaction(factory) as session, pytest.raises(ManualError, match=r"publishing .* right now"):
        resolve_entry(session, second.id, "https://youtube.com/shorts/other2")
    with transaction(factory) as session:  # the ledger's own post: resolving with it closes the entry
        assert resolve_entry(session, first.id, "https://youtu.be/live1").status == "resolved"


@pytest.mark.parametrize(
    "url",
    ["ftp://youtube.com/shorts/a1", "youtube.com/shorts/a1", "https://", "https:///shorts/a1", "https://youtube.com/"
     "shorts/a1 b", "https://www.youtube.com/watch?v=", "https://www.youtube.com/@pellacia", ""],
)  # fmt: skip
def test_a_bad_post_url_is_refused_and_the_entry_stays_open(factory: sessionmaker[Session], url: str) -> None:
    with transaction(factory) as session:
        entry = open_entry(session, "policy", "x", story_key=STORY, platform="youtube", account="main")
    with transaction(factory) as session, pytest.raises(ManualError):
        resolve_entry(session, entry.id, url)
    with transaction(factory) as session:
        assert get_entry(session, entry.id).status == "open"
        assert session.scalars(select(LedgerEntry)).all() == []


def test_a_quarantined_file_is_closed_as_handled_without_a_ledger_row(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        entry = open_entry(session, "quarantined", "sidecar missing", source_path="/p/quarantine/clip.mp4")
    with transaction(factory) as session:
        resolved = resolve_entry(session, entry.id, None)
        assert (resolved.status, resolved.resolved_url) == ("resolved", None)
        assert session.scalars(select(LedgerEntry)).all() == []


@pytest.mark.parametrize(
    ("platform", "url", "post_id"),
    [
        ("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3", "dQw4w9WgXcQ"),
        ("youtube", "https://youtube.com/shorts/Ab12_-x?feature=share", "Ab12_-x"),
        ("youtube", "https://youtu.be/Ab12_-x", "Ab12_-x"),
        ("tiktok", "https://www.tiktok.com/@pellacia/video/7311111111111111111?lang=en",
         "7311111111111111111"),
        ("instagram", "https://www.instagram.com/reel/C1a2B3c4D5e/", "C1a2B3c4D5e"),
        ("instagram", "https://www.instagram.com/pellacia/reel/C1a2B3c4D5e/", "C1a2B3c4D5e"),
        ("facebook", "https://www.facebook.com/reel/1234567890123456", "1234567890123456"),
        ("facebook", "https://www.facebook.com/PellaciaPress/videos/987654321/", "987654321"),
        ("facebook", "https://www.facebook.com/watch/?v=55555", "55555"),
        ("x", "https://x.com/pellacia/status/1790000000000000001", "1790000000000000001"),
        ("x", "https://twitter.com/i/web/status/1790000000000000001", "1790000000000000001"),
        ("linkedin", "https://www.linkedin.com/feed/update/urn:li:share:7100000000000000000/",
         "urn:li:share:7100000000000000000"),
        ("linkedin", "https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7100/",
         "urn:li:activity:7100"),
        ("linkedin", "https://www.linkedin.com/posts/pellacia_harbour-activity-7100",
         "pellacia_harbour-activity-7100"),
    ],
)  # fmt: skip
def test_the_post_id_comes_from_the_platforms_url_forms(platform: str, url: str, post_id: str) -> None:
    assert post_id_from_url(platform, url) == post_id


def _response(
    status: int, body: str, url: str = "https://open.tiktokapis.com/v2/post/publish/video/init/"
) -> httpx.Response:
    return httpx.Response(status, text=body, request=httpx.Request("POST", url))


def test_platform_failures_map_to_the_reason_a_person_must_act_on() -> None:
    refresh_refused = tiktok.classify_oauth(_response(400, '{"error": "invalid_grant"}'))
    scope = tiktok.classify(_response(401, '{"error": {"code": "scope_not_authorized", "message": "no"}}'))
    unaudited = tiktok.classify(
        _response(403, '{"error": {"code": "unaudited_client_can_only_post_to_private_accounts"}}')
    )
    mismatch = tiktok.classify(_response(400, '{"error": {"code": "privacy_level_option_mismatch"}}'))
    expired = youtube.classify(_response(401, '{"error": {"errors": [{"reason": "authError"}]}}'))
    with pytest.raises(PlatformError) as declaration:
        youtube.UploadSettings.from_options({"privacy": "public"})  # made_for_kids is never assumed
    rejected = tiktok.processing_failure("frame_rate_check_failed")
    server = tiktok.classify(_response(503, '{"error": {"code": "internal_error"}}'))
    throttled = tiktok.classify(_response(429, '{"error": {"code": "rate_limit_exceeded"}}'))
    assert [
        reason_for_error(error)
        for error in (refresh_refused, scope, unaudited, mismatch, expired, declaration.value, rejected)
        if error is not None
    ] == ["reauth", "reauth", "policy", "policy", "reauth", "policy", "media_rejected"]
    assert server is not None and throttled is not None
    assert reason_for_error(server) is None and reason_for_error(throttled) is None
    assert reason_for_error(AmbiguousOutcomeError("x", "connection dropped after create")) is None
    assert reason_for_error(PlatformError("x", ErrorKind.DUPLICATE, "duplicate content")) == "media_rejected"
