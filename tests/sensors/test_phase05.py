"""The phase-05 sensors through Dagster: drops taken once whole, bad ones quarantined with an entry and an
alert, breaking flags acted on once, and ten thousand files in the folder costing a tick next to nothing."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from pellacia_assets.delivery.folder import MAX_PENDING, DropCursor, load_seen, save_seen, store_key
from pellacia_assets.settings import Settings
from resources.alerts.resource import AlertsResource
from resources.database.models import ManualQueueItem, QueuedPost, StoryRecord
from resources.database.post_queue import enqueue
from resources.database.resource import DatabaseResource
from resources.database.stories import set_status
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from sensors.phase05 import MAX_TAKEN_PER_TICK, phase05_breaking, phase05_drops

MakeVideo = Callable[..., Path]


class Factory:
    """The drop folder, the app database, a Dagster instance and both sensors, each with its own cursor."""

    def __init__(self, instance: dg.DagsterInstance, telegram: TelegramSandbox) -> None:
        settings = Settings.from_env()
        self.folder = settings.phase05_dir
        self.folder.mkdir(parents=True)
        self.instance = instance
        self.telegram = telegram
        self.database = DatabaseResource(url=settings.database_url)
        self.alerts = AlertsResource(
            telegram_bot_token=telegram.token,
            telegram_chat_id=telegram.chat_id,
            telegram_api_url=telegram.url,
        )
        self.cursor: str | None = None
        self.flags_cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        """One evaluation of the drop sensor, its cursor kept as the daemon keeps it."""
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"database": self.database, "alerts": self.alerts},
        )
        result = phase05_drops(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        return result

    def flag_tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.flags_cursor, resources={"database": self.database}
        )
        result = phase05_breaking(context)
        assert isinstance(result, dg.SensorResult)
        self.flags_cursor = result.cursor
        return result

    def drop(self, make_video: MakeVideo, name: str, seconds: float = 3.5, **sidecar: Any) -> Path:
        video = make_video(self.folder / f"{name}.mp4", seconds=seconds, size="540x960")
        self.sidecar(name, **sidecar)
        return video

    def sidecar(self, name: str, **fields: Any) -> None:
        (self.folder / f"{name}.json").write_text(json.dumps({"title": f"Story {name}", **fields}))

    def story(self, key: str) -> StoryRecord | None:
        with self.database.session() as session:
            record = session.get(StoryRecord, key)
            if record is not None:
                session.expunge(record)
            return record

    def manual_entries(self) -> list[ManualQueueItem]:
        with self.database.session() as session:
            entries = list(session.scalars(select(ManualQueueItem).order_by(ManualQueueItem.id)))
            session.expunge_all()
            return entries


@pytest.fixture
def telegram() -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def factory(pellacia_home: Path, telegram: TelegramSandbox) -> Iterator[Factory]:
    with dg.instance_for_test() as instance:
        yield Factory(instance, telegram)


def skipped(result: dg.SensorResult) -> str:
    return result.skip_reason.skip_message or "" if result.skip_reason else ""


def runs(result: dg.SensorResult) -> dict[str, dg.RunRequest]:
    return {str(request.partition_key): request for request in result.run_requests or []}


def test_a_drop_becomes_a_story_a_partition_and_one_delivery_run(
    factory: Factory, make_video: MakeVideo
) -> None:
    video = factory.drop(
        make_video,
        "flood",
        description="The river rose.",
        hashtags="#flood #Valencia",
        platforms=["youtube", "tiktok"],
        scheduled_at="2026-12-27T14:00",
        timezone="America/New_York",
    )
    first = factory.tick()
    assert not first.run_requests and "1 file(s) being watched" in skipped(first)
    second = factory.tick()
    [request] = second.run_requests or []
    stat = video.stat()
    assert request.partition_key == "phase05-flood"
    assert request.run_key == f"phase05-flood:{stat.st_size}:{stat.st_mtime_ns}"
    assert request.tags == {"dagster/priority": "0"}
    [added] = second.dynamic_partitions_requests or []
    assert isinstance(added, dg.AddDynamicPartitionsRequest) and list(added.partition_keys) == [
        "phase05-flood"
    ]
    record = factory.story("phase05-flood")
    assert record is not None
    assert (record.source_kind, record.source_ref, record.title, record.body) == (
        "phase05",
        str(video),
        "Story flood",
        "The river rose.",
    )
    assert (record.tags, record.platforms, record.priority) == (
        ["#flood", "#Valencia"],
        ["youtube", "tiktok"],
        "normal",
    )
    assert record.publish_after is not None and record.publish_after.isoformat().startswith(
        "2026-12-27T19:00"
    )
    third = factory.tick()
    assert (
        third.run_requests in (None, []) and video.exists()
    )  # taken once; the file stays where it was dropped
    assert factory.cursor is not None and len(factory.cursor) < 200


def test_a_file_still_being_written_is_not_taken(
    factory: Factory, make_video: MakeVideo, tmp_path: Path
) -> None:
    whole = make_video(tmp_path / "whole.mp4", seconds=3.5, size="540x960").read_bytes()
    target = factory.folder / "growing.mp4"
    target.write_bytes(whole[: len(whole) // 2])
    factory.sidecar("growing")
    assert factory.tick().run_requests in (None, [])
    with target.open("ab") as handle:
        handle.write(whole[len(whole) // 2 :])  # the copy goes on between the two looks
    assert factory.tick().run_requests in (None, [])
    assert list(runs(factory.tick())) == ["phase05-growing"]
    assert factory.manual_entries() == []


def test_bad_drops_are_quarantined_with_a_manual_entry_and_one_alert_each(
    factory: Factory, make_video: MakeVideo, tmp_path: Path
) -> None:
    folder = factory.folder
    factory.drop(make_video, "good")
    corrupt = factory.drop(make_video, "corrupt")
    corrupt.write_bytes(corrupt.read_bytes()[: corrupt.stat().st_size * 2 // 3])
    make_video(folder / "malformed.mp4", seconds=3.5, size="540x960")
    (folder / "malformed.json").write_text('{"title": "x",\n "platforms": ["youtube"')
    make_video(folder / "nosidecar.mp4", seconds=3.5, size="540x960")
    factory.drop(make_video, "myspace", platforms=["youtube", "myspace"])
    outside = make_video(tmp_path / "secret.mp4", seconds=3.5, size="540x960")
    (folder / "linked.mp4").symlink_to(outside)
    factory.sidecar("linked")
    factory.drop(make_video, "bad name")
    factory.drop(make_video, "tooshort", seconds=1.5, platforms=["instagram"])
    taken: list[str] = []
    for _ in range(6):  # a lone video waits five looks for its sidecar
        taken += runs(factory.tick())
    assert taken == ["phase05-good"]
    box = folder / "quarantine"
    notes = {note.name.removesuffix(".error.txt"): note.read_text() for note in box.glob("*.error.txt")}
    expected = {
        "corrupt": "corrupt.mp4 is not a usable video:",
        "malformed": "malformed.json: malformed JSON at line 2, column",
        "nosidecar": "nosidecar.mp4 has no sidecar nosidecar.json",
        "myspace": "myspace.json: 'platforms': unknown platform 'myspace'",
        "linked": f"linked.mp4 is a symbolic link (to {str(outside)!r})",
        "bad name": "'bad name' is not a safe name",
        "tooshort": "tooshort.mp4 cannot be posted as its sidecar asks: instagram: 1.5 s is outside 3-900 s",
    }
    assert set(notes) == set(expected)
    for name, fragment in expected.items():
        assert fragment in notes[name] and notes[name].count("\n") == 1, notes[name]
    assert (box / "linked.mp4").is_symlink() and outside.exists()
    assert sorted(path.name for path in folder.iterdir()) == ["good.json", "good.mp4", "quarantine"]
    entries = factory.manual_entries()
    assert sorted(Path(entry.source_path or "").stem for entry in entries) == sorted(expected)
    assert {entry.reason for entry in entries} == {"quarantined"}
    assert all(entry.story_key is None and entry.status == "open" for entry in entries)
    assert len(factory.telegram.messages) == len(expected)  # one alert each, none repeated on later ticks
    factory.tick()
    assert len(factory.telegram.messages) == len(expected)


def test_a_flag_beside_a_new_file_makes_it_breaking_news(factory: Factory, make_video: MakeVideo) -> None:
    factory.drop(make_video, "calm", priority="backlog")
    factory.drop(make_video, "urgent")
    (factory.folder / "urgent.breaking").touch()
    factory.drop(make_video, "storm", priority="breaking")
    taken: dict[str, dg.RunRequest] = {}
    for _ in range(4):  # a tick verifies as many videos as its time budget allows
        taken |= runs(factory.tick())
    assert list(taken) == ["phase05-storm", "phase05-urgent", "phase05-calm"]  # breaking first
    assert {key: request.tags["dagster/priority"] for key, request in taken.items()} == {
        "phase05-storm": "10",
        "phase05-urgent": "10",
        "phase05-calm": "-1",
    }
    urgent = factory.story("phase05-urgent")
    assert urgent is not None and urgent.priority == "breaking"


def test_a_flag_for_a_taken_story_moves_its_posts_up_once(factory: Factory, make_video: MakeVideo) -> None:
    factory.drop(make_video, "quiet")
    factory.tick()
    factory.tick()
    with factory.database.session() as session:
        enqueue(session, "phase05-quiet", 1, [("youtube", "default"), ("x", "default")], lane="normal")
    assert skipped(factory.flag_tick()) == "no new breaking-news flags"
    (factory.folder / "quiet.breaking").touch()
    (factory.folder / "nothing-yet.breaking").touch()  # no such story: left for the drop sensor
    assert skipped(factory.flag_tick()) == "raised to breaking: quiet"
    assert json.loads(factory.flags_cursor or "") == ["quiet"]
    with factory.database.session() as session:
        rows = list(session.scalars(select(QueuedPost).where(QueuedPost.story_key == "phase05-quiet")))
        assert {row.lane for row in rows} == {"breaking"}
        record = session.get(StoryRecord, "phase05-quiet")
        assert record is not None and record.priority == "breaking"
        for row in rows:
            row.lane = "normal"  # an operator lowers it again: the flag was acted on and stays so
    factory.flag_tick()
    with factory.database.session() as session:
        lanes = set(session.scalars(select(QueuedPost.lane).where(QueuedPost.story_key == "phase05-quiet")))
        assert lanes == {"normal"}
    (factory.folder / "quiet.breaking").unlink()
    factory.flag_tick()
    assert json.loads(factory.flags_cursor or "") == []


def test_a_tick_repeated_after_a_crash_asks_for_the_same_runs(
    factory: Factory, make_video: MakeVideo
) -> None:
    factory.drop(make_video, "clip")
    factory.tick()
    committed = factory.cursor
    first = factory.tick()
    factory.cursor = committed  # the daemon died before storing the new cursor
    again = factory.tick()
    assert [(r.partition_key, r.run_key) for r in again.run_requests or []] == [
        (r.partition_key, r.run_key) for r in first.run_requests or []
    ]
    store = factory.instance.daemon_cursor_storage
    assert load_seen(store, factory.folder, DropCursor.from_json(again.cursor).seen) == frozenset({"clip"})


def test_lost_state_finds_taken_names_again_and_a_reused_name_is_refused(
    factory: Factory, make_video: MakeVideo
) -> None:
    factory.drop(make_video, "done")
    factory.tick()
    assert list(runs(factory.tick())) == ["phase05-done"]
    with factory.database.session() as session:
        set_status(session, "phase05-done", "produced")
    factory.cursor = None  # a wiped instance: the names taken are gone
    for _ in range(3):
        assert factory.tick().run_requests in (None, [])
    assert factory.manual_entries() == [] and not (factory.folder / "quarantine").exists()
    for path in (factory.folder / "done.mp4", factory.folder / "done.json"):
        path.unlink()
    factory.tick()
    factory.drop(make_video, "done", seconds=4.0)  # a new video under a name already produced
    factory.tick()
    note = (factory.folder / "quarantine" / "done.error.txt").read_text()
    assert "story phase05-done was produced from an earlier drop of that name already" in note


def test_ten_thousand_files_keep_a_tick_cheap_and_its_state_small(
    factory: Factory, make_video: MakeVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = make_video(tmp_path / "one.mp4", seconds=3.5, size="540x960")
    names = [f"2026-12-{number % 28 + 1:02d}-clip-{number:05d}" for number in range(10_000)]
    for name in names:
        os.link(original, factory.folder / f"{name}.mp4")
        (factory.folder / f"{name}.json").write_text('{"title": "A clip", "platforms": ["youtube"]}')

    started = time.perf_counter()
    first = factory.tick()
    first_s = time.perf_counter() - started
    assert first.run_requests in (None, []) and len(DropCursor.from_json(first.cursor).pending) == MAX_PENDING
    started = time.perf_counter()
    second = factory.tick()
    second_s = time.perf_counter() - started
    taken = len(second.run_requests or [])
    assert 1 <= taken <= MAX_TAKEN_PER_TICK  # as many as the tick's budget allows; the rest wait
    assert len(second.cursor or "") < 10_000
    assert 1 <= len(factory.tick().run_requests or []) <= MAX_TAKEN_PER_TICK

    # The same folder once every file was taken: the names live packed outside the cursor.
    store = factory.instance.daemon_cursor_storage
    ref = save_seen(store, factory.folder, None, frozenset(names))
    assert ref is not None
    factory.cursor = DropCursor(ref).to_json()
    started = time.perf_counter()
    idle = factory.tick()
    idle_s = time.perf_counter() - started
    assert idle.run_requests in (None, []) and factory.cursor is not None and len(factory.cursor) < 200
    factory.drop(make_video, "fresh")
    factory.tick()
    assert list(runs(factory.tick())) == ["phase05-fresh"]
    key = store_key(factory.folder, ref.slot)
    packed = store.get_cursor_values({key})[key]
    with capsys.disabled():
        print(
            f"\n10,000 pairs: first look {first_s:.3f} s, taking {taken} {second_s:.3f} s, "
            f"idle tick with all seen {idle_s:.3f} s; cursor {len(factory.cursor)} bytes, "
            f"seen names {len(packed):,} bytes in the instance's key-value store"
        )
