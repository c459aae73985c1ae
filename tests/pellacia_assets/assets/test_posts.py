"""The six `<platform>_post` assets on the sandboxes: parts in order, exactly once, failures contained;
and launched by the dispatcher, one queued part per run with its outcome on the queue row."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pellacia_assets.assets.posts import POST_ASSETS
from pellacia_assets.definitions import build_resources
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.manifests import (
    SCRIPT_FILE,
    VIDEO_MANIFEST,
    VideoManifest,
    VideoPart,
    part_video_name,
    write_manifest,
)
from pellacia_assets.posting.policy import PostingPolicy
from pellacia_assets.posting.producers import queue_story
from pellacia_assets.scripting.template_writer import TemplateScriptWriter
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from pellacia_assets.stories.model import Story
from resources.alerts.resource import AlertsResource
from resources.database.engine import open_database, transaction
from resources.database.manual import list_entries
from resources.database.models import LedgerEntry, QueuedPost, StoryRecord
from resources.database.resource import DatabaseResource
from resources.database.stories import save_source
from resources.media_store.store import MediaStore
from resources.platforms import PLATFORMS
from sandbox.platforms import SandboxSuite
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from sensors.dispatcher import post_dispatcher
from tests.proxies import Proxy

BODY = (
    "The bakery on Rowan Street opened at midnight. Nobody knew why. Every night a woman named Ines baked "
    "whatever the first customer asked for. I asked for cinnamon rolls. A nurse asked for rye bread. "
    "By the third week there were twelve of us waiting for bread in the dark. When the building was sold, "
    "Ines gave each of us a jar of her starter dough. Now I bake two loaves every Friday at midnight."
)


def stage_story(key: str, settings: Settings, make_video: Callable[..., Path]) -> list[Path]:
    """A produced story without producing it: source row, a two-part script, and two real videos."""
    with transaction(open_database(settings.database_url)) as session:
        save_source(
            session, SourceRecord(key=key, source_kind="test", source_ref="t", title="Bakery", body=BODY)
        )
    story = Story(key=key, source_kind="test", title="The midnight bakery", body=BODY, tags=("storytime",))
    script = TemplateScriptWriter().write(story, words_per_minute=180, max_part_seconds=20)
    assert len(script.parts) >= 2
    store = MediaStore(settings.media_dir)
    with store.stage(key, "script") as folder:
        (folder / SCRIPT_FILE).write_text(script.to_json())
    with store.stage(key, "video") as folder:
        parts = []
        for part in script.parts:
            name = part_video_name(part.number)
            video = make_video(folder / name, seconds=3, tone=300 + 100 * part.number)
            parts.append(VideoPart(part.number, name, "", 3.0, video.stat().st_size, 0.0))
        write_manifest(folder, VIDEO_MANIFEST, VideoManifest(tuple(parts)))
    return [store.asset_dir(key, "video") / part.file for part in parts]


def resources_for(settings: Settings) -> dict[str, Any]:
    return {"alerts": AlertsResource.from_env(), **build_resources(settings)}


def publish(key: str, settings: Settings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("story", [key])
    return dg.materialize(
        POST_ASSETS,
        partition_key=key,
        instance=instance,
        resources=resources_for(settings),
        raise_on_error=False,
    )


def run_request(
    request: dg.RunRequest, settings: Settings, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """What the daemon does with the dispatcher's request: a run of that asset, with its tags and key."""
    return dg.materialize(
        POST_ASSETS,
        selection=request.asset_selection,
        partition_key=request.partition_key,
        instance=instance,
        resources=resources_for(settings),
        tags={**request.tags, "dagster/run_key": str(request.run_key)},
        raise_on_error=False,
    )


def produced(key: str, platforms: list[str]) -> list[QueuedPost]:
    """The end of the video asset: the story is produced and its posts queued (gap off)."""
    with transaction(open_database(Settings.from_env().database_url)) as session:
        record = session.get_one(StoryRecord, key)
        record.status, record.platforms = "produced", platforms
        session.flush()
        parts = 2
        return queue_story(session, key, parts, PostingPolicy(gap_s=0, jitter_s=0))


def queue_rows(key: str) -> list[QueuedPost]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return [row for row in session.query(QueuedPost).order_by(QueuedPost.id) if row.story_key == key]


def retried(result: dg.ExecuteInProcessResult) -> bool:
    return any(event.event_type_value == "STEP_UP_FOR_RETRY" for event in result.all_events)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def instance(sandboxes: SandboxSuite) -> dg.DagsterInstance:
    prepare_dagster_home(Settings.from_env())
    return dg.DagsterInstance.get()


def test_parts_go_out_in_order_to_every_platform_exactly_once(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    videos = stage_story("bakery", settings, make_video)
    result = publish("bakery", settings, instance)
    assert result.success
    for platform in PLATFORMS:
        posts = sandboxes.servers[platform].posts
        assert [post["sha256"] for post in posts] == [digest(video) for video in videos], platform
        [materialization] = result.asset_materializations_for_node(f"{platform}_post")
        assert len(materialization.metadata["post_ids"].value) == len(videos)  # type: ignore[arg-type]
    again = publish("bakery", settings, instance)
    assert again.success
    assert all(len(sandboxes.servers[p].posts) == len(videos) for p in PLATFORMS)


def test_a_part_refused_in_processing_stops_later_parts_on_that_platform_only(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    videos = stage_story("refused", settings, make_video)
    sandboxes.servers["x"].reject_next_processing("Unsupported video format")
    result = publish("refused", settings, instance)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert [event.step_key for event in failures] == ["x_post"]
    message = failures[0].step_failure_data.error.message  # type: ignore[union-attr]
    assert "Unsupported video format" in message
    assert sandboxes.servers["x"].posts == []
    assert len(sandboxes.servers["linkedin"].posts) == len(videos)


def test_the_same_video_under_another_story_is_refused(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    stage_story("first", settings, make_video)
    assert publish("first", settings, instance).success
    stage_story("copy", settings, make_video)
    result = publish("copy", settings, instance)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert len(failures) == len(PLATFORMS)
    assert all("already went to" in e.step_failure_data.error.message for e in failures)  # type: ignore[union-attr]


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as bot:
        for name, value in bot.env.items():
            monkeypatch.setenv(name, value)
        yield bot


def test_the_dispatcher_publishes_one_queued_part_per_run_in_order(
    sandboxes: SandboxSuite,
    instance: dg.DagsterInstance,
    make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", "0")
    settings = Settings.from_env()
    videos = stage_story("queued", settings, make_video)
    rows = produced("queued", ["youtube", "x"])
    assert len(rows) == 4
    database = DatabaseResource(url=settings.database_url)
    runs: list[dg.ExecuteInProcessResult] = []
    for _tick in range(6):
        tick = post_dispatcher(dg.build_sensor_context(instance=instance, resources={"database": database}))
        if isinstance(tick, dg.SkipReason):
            break
        assert isinstance(tick, dg.SensorResult)
        for added in tick.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions("story", list(added.partition_keys or []))
        runs += [run_request(request, settings, instance) for request in tick.run_requests or []]
    assert tick.skip_message == "nothing queued"  # type: ignore[union-attr]
    assert len(runs) == 4 and all(run.success for run in runs)
    for platform in ("youtube", "x"):
        assert [post["sha256"] for post in sandboxes.servers[platform].posts] == [digest(v) for v in videos]
    assert sandboxes.servers["tiktok"].posts == []
    with transaction(open_database(settings.database_url)) as session:
        ledger = {(e.platform, e.part): e.id for e in session.query(LedgerEntry)}
    assert [(row.state, row.ledger_id) for row in queue_rows("queued")] == [
        ("published", ledger[(row.platform, row.part)]) for row in rows
    ]
    for run in runs:
        [materialization] = [
            m for node in ("youtube_post", "x_post") for m in run.asset_materializations_for_node(node)
        ]
        assert len(materialization.metadata["post_ids"].value) == 1  # type: ignore[arg-type]
        assert materialization.metadata["queue_id"].value == int(run.dagster_run.tags["pellacia/queue_id"])
    # the daemon retrying a finished run publishes nothing again
    again = dg.materialize(
        POST_ASSETS,
        selection=[dg.AssetKey("x_post")],
        partition_key="queued",
        instance=instance,
        resources=resources_for(settings),
        tags={"pellacia/queue_id": str(rows[2].id)},
    )
    assert again.success and len(sandboxes.servers["x"].posts) == 2


def test_a_part_whose_earlier_part_is_not_live_is_refused_without_retries(
    sandboxes: SandboxSuite, instance: dg.DagsterInstance, make_video: Callable[..., Path]
) -> None:
    settings = Settings.from_env()
    stage_story("early", settings, make_video)
    instance.add_dynamic_partitions("story", ["early"])
    _one, two = produced("early", ["x"])
    with transaction(open_database(settings.database_url)) as session:
        row = session.get_one(QueuedPost, two.id)
        row.state, row.dispatches = "publishing", 1
    result = dg.materialize(
        POST_ASSETS,
        selection=[dg.AssetKey("x_post")],
        partition_key="early",
        instance=instance,
        resources=resources_for(settings),
        tags={"pellacia/queue_id": str(two.id)},
        raise_on_error=False,
    )
    assert not result.success and not retried(result)
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "an earlier part is not live" in failure.step_failure_data.error.message  # type: ignore[union-attr]
    state = {row.id: (row.state, row.last_error) for row in queue_rows("early")}
    assert state[two.id] == ("due", "part 1 is not live on the account yet")
    assert sandboxes.servers["x"].posts == []


def test_a_rejection_a_person_must_fix_goes_to_the_manual_queue_with_one_alert(
    sandboxes: SandboxSuite,
    instance: dg.DagsterInstance,
    make_video: Callable[..., Path],
    telegram: TelegramSandbox,
) -> None:
    settings = Settings.from_env()
    stage_story("rejected", settings, make_video)
    instance.add_dynamic_partitions("story", ["rejected"])
    one, _two = produced("rejected", ["x"])
    with transaction(open_database(settings.database_url)) as session:
        row = session.get_one(QueuedPost, one.id)
        row.state, row.dispatches = "publishing", 1
    sandboxes.servers["x"].reject_next_processing("Unsupported video format")
    result = dg.materialize(
        POST_ASSETS,
        selection=[dg.AssetKey("x_post")],
        partition_key="rejected",
        instance=instance,
        resources=resources_for(settings),
        tags={"pellacia/queue_id": str(one.id)},
        raise_on_error=False,
    )
    assert not result.success and not retried(result)
    run_id = result.dagster_run.run_id
    with transaction(open_database(settings.database_url)) as session:
        [entry] = list_entries(session)
        assert (entry.reason, entry.queue_id, entry.run_id, entry.part) == (
            "media_rejected",
            one.id,
            run_id,
            1,
        )
        assert entry.ledger_id is not None and "Unsupported video format" in entry.detail
        assert session.get_one(QueuedPost, one.id).state == "manual"
    [message] = telegram.messages
    assert "rejected" in message["text"] and f"/runs/{run_id}" in message["text"]
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert f"manual entry {entry.id}" in failure.step_failure_data.error.message  # type: ignore[union-attr]


def test_a_post_asset_falls_back_to_an_exit_when_the_api_refuses_this_network(
    sandboxes: SandboxSuite,
    instance: dg.DagsterInstance,
    make_video: Callable[..., Path],
    socks_exit: Proxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env()
    videos = stage_story("geo", settings, make_video)
    tiktok = sandboxes.servers["tiktok"]
    tiktok.block_region(["127.0.0.1"])
    monkeypatch.setenv("PELLACIA_TIKTOK_PROXIES", socks_exit.url)
    instance.add_dynamic_partitions("story", ["geo"])

    result = dg.materialize(
        [asset for asset in POST_ASSETS if asset.key.path == ["tiktok_post"]],
        partition_key="geo",
        instance=instance,
        resources=resources_for(settings),
    )

    [materialization] = result.asset_materializations_for_node("tiktok_post")
    assert materialization.metadata["via"].value == "api+proxy"
    assert "| api+proxy |" in str(materialization.metadata["posts"].value)
    assert [post["sha256"] for post in tiktok.posts] == [digest(video) for video in videos]
