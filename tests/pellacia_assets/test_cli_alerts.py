"""`pellacia-dist test alerts`: a test message to every configured channel, and which worked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pellacia_assets.cli import main
from resources.alerts.config import EMAIL_VARIABLES, TELEGRAM_VARIABLES
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from tests.resources.alerts.smtp_server import Certificate, SmtpServer, make_certificate, smtp_server

VARIABLES = (*TELEGRAM_VARIABLES, *EMAIL_VARIABLES, "PELLACIA_TELEGRAM_API_URL", "PELLACIA_SMTP_CA_FILE")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(scope="module")
def mail(certificate: Certificate) -> Iterator[SmtpServer]:
    with smtp_server("starttls", certificate) as server:
        yield server


@pytest.fixture(scope="module")
def bot_api() -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def no_channels(pellacia_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def both_channels(
    no_channels: None,
    monkeypatch: pytest.MonkeyPatch,
    bot_api: TelegramSandbox,
    mail: SmtpServer,
    certificate: Certificate,
) -> None:
    bot_api.forget_messages()
    mail.received.clear()
    for name, value in bot_api.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PELLACIA_SMTP_URL", mail.url())
    monkeypatch.setenv("PELLACIA_SMTP_CA_FILE", str(certificate.cert_file))
    monkeypatch.setenv("PELLACIA_ALERT_EMAIL_TO", "desk@pellacia.test")
    monkeypatch.setenv("PELLACIA_ALERT_EMAIL_FROM", "alerts@pellacia.test")


@pytest.mark.usefixtures("both_channels")
def test_every_configured_channel_delivers(
    capsys: pytest.CaptureFixture[str], bot_api: TelegramSandbox, mail: SmtpServer
) -> None:
    assert main(["test", "alerts"]) == 0
    assert capsys.readouterr().out.splitlines() == ["telegram: delivered", "email: delivered"]
    [message] = bot_api.messages
    assert message["text"].startswith("Pellacia test alert\nSent by `pellacia-dist test alerts`")
    assert [received.message["Subject"] for received in mail.messages()] == ["Pellacia test alert"]


@pytest.mark.usefixtures("both_channels")
def test_a_failing_channel_is_named_with_its_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mail: SmtpServer
) -> None:
    monkeypatch.setenv("PELLACIA_SMTP_URL", mail.url(password="wrong-password"))
    assert main(["test", "alerts"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "telegram: delivered",
        "email: failed (the server refused the login: 535 5.7.8 Authentication credentials invalid)",
    ]
    assert "wrong-password" not in out


@pytest.mark.usefixtures("both_channels")
def test_json(capsys: pytest.CaptureFixture[str], bot_api: TelegramSandbox) -> None:
    bot_api.throttle_next(retry_after=60)
    assert main(["test", "alerts", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["channels"]["email"] == {"status": "delivered"}
    assert report["channels"]["telegram"]["status"] == "failed"
    assert report["channels"]["telegram"]["error"].startswith("Too Many Requests: retry after 60")


@pytest.mark.usefixtures("no_channels")
def test_no_channel_is_exit_2_naming_the_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "alerts"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("pellacia-dist: no alert channel is configured: set PELLACIA_TELEGRAM_BOT_TOKEN")
    assert all(name in line for name in (*TELEGRAM_VARIABLES, *EMAIL_VARIABLES))


@pytest.mark.usefixtures("no_channels")
def test_a_half_configured_channel_is_exit_2_naming_what_is_missing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELLACIA_TELEGRAM_CHAT_ID", "42")
    assert main(["test", "alerts"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "PELLACIA_TELEGRAM_BOT_TOKEN not" in line


def test_test_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["test"])
    assert exit_.value.code == 2
    assert "alerts" in capsys.readouterr().err
