"""The nightly cleanup and the daily digest as Dagster runs them: real jobs, resources and channel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pellacia_assets.posting.policy import timezone_name
from pellacia_assets.settings import Settings
from resources.alerts.resource import AlertsResource
from resources.database.resource import DatabaseResource
from resources.media_store.resource import MediaStoreResource
from sandbox.telegram import telegram_sandbox
from schedules.cleanup import cleanup_job
from schedules.digest import digest_job


def test_cleanup_job_removes_an_orphaned_story_folder(pellacia_home: Path) -> None:
    settings = Settings.from_env()
    orphan = settings.media_dir / "gone-story" / "video"
    orphan.mkdir(parents=True)
    (orphan / "part-1.mp4").write_bytes(b"x" * 2048)
    old = 1_000_000_000
    for path in (orphan / "part-1.mp4", orphan, orphan.parent):
        os.utime(path, (old, old))
    result = cleanup_job.execute_in_process(
        resources={
            "database": DatabaseResource(url=settings.database_url),
            "media": MediaStoreResource(root=str(settings.media_dir)),
        }
    )
    assert result.success
    assert not orphan.parent.exists()
    assert result.output_for_node("clean_media_files") == 2048


def test_digest_job_sends_the_digest_on_the_alert_channel(pellacia_home: Path) -> None:
    settings = Settings.from_env()
    with telegram_sandbox() as telegram:
        alerts = AlertsResource(
            telegram_bot_token=telegram.token,
            telegram_chat_id=telegram.chat_id,
            telegram_api_url=telegram.url,
        )
        result = digest_job.execute_in_process(
            resources={"database": DatabaseResource(url=settings.database_url), "alerts": alerts}
        )
        messages = list(telegram.messages)
    assert result.success
    assert len(messages) == 1
    assert messages[0]["text"] == result.output_for_node("send_daily_digest")


def test_a_digest_that_reaches_no_channel_fails_the_run(pellacia_home: Path) -> None:
    settings = Settings.from_env()
    with telegram_sandbox() as telegram:
        alerts = AlertsResource(
            telegram_bot_token=telegram.token, telegram_chat_id="999", telegram_api_url=telegram.url
        )
        result = digest_job.execute_in_process(
            resources={"database": DatabaseResource(url=settings.database_url), "alerts": alerts},
            raise_on_error=False,
        )
    assert not result.success


def test_the_schedules_fire_in_the_factory_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_TIMEZONE", "America/New_York")
    assert timezone_name() == "America/New_York"
    monkeypatch.delenv("PELLACIA_TIMEZONE")
    assert timezone_name() == "UTC"
