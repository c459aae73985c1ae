"""One alert per incident, delivered to the real Telegram sandbox and a real SMTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from resources.alerts.channels import Alerter
from resources.alerts.email import EmailChannel, SmtpSettings
from resources.alerts.incidents import Incident, open_incidents, raise_alert, resolve_alert
from resources.alerts.telegram import TelegramChannel
from resources.database.engine import transaction
from resources.database.models import AlertIncident
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from tests.resources.alerts.smtp_server import SmtpServer, smtp_server

FAILED = Incident(
    cause="run_failed",
    message="youtube refused the upload: quotaExceeded",
    story_key="story-1",
    platform="youtube",
    link="http://127.0.0.1:3000/runs/0123abcd",
)


@pytest.fixture(scope="module")
def bot_api() -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    with smtp_server("plain", auth=False) as server:
        yield server


@pytest.fixture(autouse=True)
def empty_inboxes(bot_api: TelegramSandbox, mail: SmtpServer) -> Iterator[None]:
    bot_api.forget_messages()
    mail.received.clear()
    yield
    bot_api.server.clear_faults()


@pytest.fixture
def alerter(bot_api: TelegramSandbox, mail: SmtpServer) -> Alerter:
    """Both channels: Telegram and email."""
    settings = SmtpSettings(mail.host, mail.port, False, "alerts@pellacia.test", ("desk@pellacia.test",))
    return Alerter([TelegramChannel(bot_api.token, bot_api.chat_id, bot_api.url), EmailChannel(settings)])


def texts(bot_api: TelegramSandbox) -> list[str]:
    return [message["text"] for message in bot_api.messages]


def rows(factory: sessionmaker[Session]) -> list[AlertIncident]:
    with transaction(factory) as session:
        return list(session.scalars(select(AlertIncident).order_by(AlertIncident.id)))


def test_five_failures_are_one_alert_naming_story_platform_error_and_run(
    factory: sessionmaker[Session], alerter: Alerter, bot_api: TelegramSandbox, mail: SmtpServer
) -> None:
    sent = [raise_alert(factory, alerter, FAILED) for _ in range(5)]

    assert sent == [True, False, False, False, False]
    assert texts(bot_api) == [
        "Pellacia: run failed (story-1 on youtube)\n"
        "youtube refused the upload: quotaExceeded\n"
        "http://127.0.0.1:3000/runs/0123abcd"
    ]
    assert [received.message["Subject"] for received in mail.messages()] == [
        "Pellacia: run failed (story-1 on youtube)"
    ]
    [row] = rows(factory)
    assert (row.status, row.occurrences, row.delivered) == ("open", 5, {"telegram": None, "email": None})


def test_resolving_sends_one_resolved_message_and_the_next_failure_is_a_new_incident(
    factory: sessionmaker[Session], alerter: Alerter, bot_api: TelegramSandbox
) -> None:
    raise_alert(factory, alerter, FAILED)
    assert resolve_alert(factory, alerter, "run_failed", "story-1", "youtube", "published on retry")
    assert not resolve_alert(factory, alerter, "run_failed", "story-1", "youtube", "published on retry")
    assert texts(bot_api)[1:] == ["Pellacia: resolved run failed (story-1 on youtube)\npublished on retry"]

    assert raise_alert(factory, alerter, FAILED)
    assert len(texts(bot_api)) == 3
    assert [(row.status, row.occurrences) for row in rows(factory)] == [("resolved", 1), ("open", 1)]
    with transaction(factory) as session:
        assert [row.incident_key for row in open_incidents(session)] == ["story-1|youtube|run_failed"]


def test_story_platform_and_cause_each_make_their_own_incident(
    factory: sessionmaker[Session], alerter: Alerter, bot_api: TelegramSandbox
) -> None:
    raise_alert(factory, alerter, FAILED)
    raise_alert(factory, alerter, Incident("run_failed", "x refused it", "story-1", "x"))
    raise_alert(factory, alerter, Incident("quarantined", "not a video", "phase05-clip"))
    raise_alert(factory, alerter, Incident("quarantined", "not a video", "phase05-clip"))
    assert len(texts(bot_api)) == 3
    assert texts(bot_api)[2] == "Pellacia: quarantined (phase05-clip)\nnot a video"


def test_an_alert_no_channel_delivered_is_sent_again_by_the_next_failure(
    factory: sessionmaker[Session], bot_api: TelegramSandbox
) -> None:
    telegram_only = Alerter([TelegramChannel(bot_api.token, bot_api.chat_id, bot_api.url)])
    bot_api.throttle_next(retry_after=60)
    assert raise_alert(factory, telegram_only, FAILED)
    assert texts(bot_api) == []
    [row] = rows(factory)
    assert "flood control" in (row.delivered["telegram"] or "")

    assert raise_alert(factory, telegram_only, FAILED)
    assert not raise_alert(factory, telegram_only, FAILED)
    assert len(texts(bot_api)) == 1
    [row] = rows(factory)
    assert (row.occurrences, row.delivered) == (3, {"telegram": None})


def test_failures_at_the_same_moment_send_one_alert(
    factory: sessionmaker[Session], alerter: Alerter, bot_api: TelegramSandbox
) -> None:
    start = threading.Barrier(6)
    outcomes: list[bool] = []

    def fail() -> None:
        start.wait()
        outcomes.append(raise_alert(factory, alerter, FAILED))

    threads = [threading.Thread(target=fail) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 5 + [True]
    assert len(texts(bot_api)) == 1
    assert rows(factory)[0].occurrences == 6
