"""Publishing one queued post against the X sandbox: every way out leaves the row saying what comes next."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.posting.publish import QueuedPostError, publish_queued
from pellacia_assets.scripting.model import Script
from pellacia_assets.scripting.template_writer import TemplateScriptWriter
from pellacia_assets.settings import Settings
from pellacia_assets.stories.model import Story
from resources.alerts.config import alerter_from_env
from resources.database.engine import open_database, transaction
from resources.database.models import QueuedPost
from resources.platforms.clients import credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.http import RetryPolicy
from resources.platforms.x import XClient
from sandbox.platforms import SandboxSuite
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from tests.pellacia_assets.posting.history import queued

BODY = (
    "The ferry left at dawn with nobody aboard but the captain and a goat. Every morning the goat chose "
    "the island. Nobody argued with the goat. By spring the islands had a school, a bakery and a band."
)
RUN_TIME = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as bot:
        for name, value in bot.env.items():
            monkeypatch.setenv(name, value)
        yield bot


@pytest.fixture
def world(
    sandboxes: SandboxSuite, tmp_path: Path, make_video: Callable[..., Path]
) -> tuple[sessionmaker[Session], XClient, Script, Path]:
    url = Settings.from_env().database_url
    client = XClient(
        PlatformSettings.from_env("x"),
        credential_store(url),
        retry=RetryPolicy(max_attempts=1),
        sleep=lambda s: None,
    )
    story = Story(key="ferry", source_kind="test", title="The ferry", body=BODY, tags=("island",))
    script = TemplateScriptWriter().write(story, words_per_minute=180, max_part_seconds=60)
    return open_database(url), client, script, make_video(tmp_path / "part-1.mp4", seconds=2)


def row_of(factory: sessionmaker[Session], account: str, state: str = "publishing") -> int:
    with transaction(factory) as session:
        row = queued(session, "ferry", "x", account, parts=1, not_before=RUN_TIME)[0]
        row.state, row.dispatches = state, 1
        return row.id


def state(factory: sessionmaker[Session], queue_id: int) -> tuple[str, str | None]:
    with transaction(factory) as session:
        row = session.get_one(QueuedPost, queue_id)
        return row.state, row.last_error


def publish(world: tuple[sessionmaker[Session], XClient, Script, Path], queue_id: int) -> str:
    factory, client, script, video = world
    return publish_queued(
        client, factory, script, queue_id, lambda _n: video, alerter_from_env(), "run-1", lambda _line: None
    ).url


def test_a_published_post_is_recorded_on_its_row(
    world: tuple[sessionmaker[Session], XClient, Script, Path],
) -> None:
    factory, client, _script, _video = world
    queue_id = row_of(factory, client.account)
    url = publish(world, queue_id)
    assert url and state(factory, queue_id) == ("published", None)
    assert publish(world, queue_id) == url  # a second run finds it published and sends nothing


def test_a_retryable_error_leaves_the_row_to_the_retries(
    sandboxes: SandboxSuite,
    world: tuple[sessionmaker[Session], XClient, Script, Path],
    telegram: TelegramSandbox,
) -> None:
    factory, client, _script, _video = world
    queue_id = row_of(factory, client.account)
    sandboxes.servers["x"].fail_next("media_initialize", 503)
    with pytest.raises(QueuedPostError) as raised:
        publish(world, queue_id)
    assert raised.value.retryable and state(factory, queue_id) == ("publishing", None)
    assert telegram.messages == []  # the run may still succeed; the run-failure sensor speaks when not
    publish(world, queue_id)
    assert state(factory, queue_id) == ("published", None)


def test_a_row_for_another_account_fails_once_with_one_alert(
    world: tuple[sessionmaker[Session], XClient, Script, Path], telegram: TelegramSandbox
) -> None:
    factory, _client, _script, _video = world
    queue_id = row_of(factory, "someone-else")
    for _attempt in range(2):
        with pytest.raises(
            QueuedPostError, match="is for x account 'someone-else' but PELLACIA_X_ACCOUNT"
        ) as e:
            publish(world, queue_id)
        assert not e.value.retryable and state(factory, queue_id)[0] == "failed"
        with transaction(factory) as session:
            session.get_one(QueuedPost, queue_id).state = "publishing"  # dispatched again by hand
    assert state(factory, queue_id)[1] is not None and "queue retry --id" in str(state(factory, queue_id)[1])
    [message] = telegram.messages
    assert "run failed (ferry on x)" in message["text"] and "/runs/run-1" in message["text"]


def test_a_row_not_being_published_is_left_alone(
    world: tuple[sessionmaker[Session], XClient, Script, Path],
) -> None:
    factory, client, _script, _video = world
    queue_id = row_of(factory, client.account, state="cancelled")
    with pytest.raises(
        QueuedPostError, match=r"is cancelled, not being published; `pellacia-dist queue retry"
    ):
        publish(world, queue_id)
    assert state(factory, queue_id) == ("cancelled", None)
