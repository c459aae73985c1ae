"""Alert channels from the environment: all or nothing per channel, errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources.alerts.config import AlertConfigError, AlertSettings, alerter_from_env, run_link

TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
EMAIL = {
    "PELLACIA_SMTP_URL": "smtp://alerts%40pellacia.test:p%40ss%3Aw%2Frd@mail.pellacia.test",
    "PELLACIA_ALERT_EMAIL_TO": "desk@pellacia.test, Night <night@pellacia.test>",
    "PELLACIA_ALERT_EMAIL_FROM": "Pellacia <alerts@pellacia.test>",
}
TELEGRAM = {"PELLACIA_TELEGRAM_BOT_TOKEN": TOKEN, "PELLACIA_TELEGRAM_CHAT_ID": "-1001234567890"}
ALL = (*EMAIL, *TELEGRAM, "PELLACIA_TELEGRAM_API_URL", "PELLACIA_SMTP_CA_FILE", "PELLACIA_UI_URL")


@pytest.fixture(autouse=True)
def no_alert_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL:
        monkeypatch.delenv(name, raising=False)


def test_nothing_set_is_no_channel() -> None:
    assert alerter_from_env().channels == []


def test_both_channels_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**EMAIL, **TELEGRAM}.items():
        monkeypatch.setenv(name, value)
    alerter = alerter_from_env()
    assert [channel.name for channel in alerter.channels] == ["telegram", "email"]
    assert TOKEN not in repr(alerter) + repr(alerter.channels) + repr(AlertSettings.from_env())
    assert "p@ss" not in repr(alerter.channels) + repr(AlertSettings.from_env())


def test_the_smtp_url_is_percent_decoded_and_ports_default_by_scheme() -> None:
    email = AlertSettings.from_values(EMAIL).email
    assert email is not None
    assert (email.username, email.password) == ("alerts@pellacia.test", "p@ss:w/rd")
    assert (email.host, email.port, email.implicit_tls) == ("mail.pellacia.test", 587, False)
    assert email.recipients == ("desk@pellacia.test", "night@pellacia.test")
    smtps = AlertSettings.from_values({**EMAIL, "PELLACIA_SMTP_URL": "smtps://mail.pellacia.test"}).email
    assert smtps is not None and (smtps.port, smtps.implicit_tls, smtps.username) == (465, True, None)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"PELLACIA_TELEGRAM_BOT_TOKEN": TOKEN},
            "PELLACIA_TELEGRAM_BOT_TOKEN set but PELLACIA_TELEGRAM_CHAT_ID not",
        ),
        (
            {"PELLACIA_TELEGRAM_CHAT_ID": "42"},
            "PELLACIA_TELEGRAM_CHAT_ID set but PELLACIA_TELEGRAM_BOT_TOKEN not",
        ),
        (
            {"PELLACIA_SMTP_URL": EMAIL["PELLACIA_SMTP_URL"]},
            "PELLACIA_SMTP_URL set but PELLACIA_ALERT_EMAIL_TO, PELLACIA_ALERT_EMAIL_FROM not",
        ),
        (
            {"PELLACIA_ALERT_EMAIL_TO": "a@b.test", "PELLACIA_ALERT_EMAIL_FROM": "c@d.test"},
            "but PELLACIA_SMTP_URL not",
        ),
        ({**TELEGRAM, "PELLACIA_TELEGRAM_BOT_TOKEN": "not a token"}, "does not look like a bot token"),
        (
            {**TELEGRAM, "PELLACIA_TELEGRAM_CHAT_ID": "my chat"},
            "neither a numeric chat id nor a @channelusername",
        ),
        ({**TELEGRAM, "PELLACIA_TELEGRAM_API_URL": "api.telegram.org"}, "is not an http(s) URL"),
        ({**EMAIL, "PELLACIA_SMTP_URL": "http://mail.pellacia.test"}, "must start with smtp:// (STARTTLS)"),
        ({**EMAIL, "PELLACIA_SMTP_URL": "smtp://u:secret@mail.test:99999"}, "a port that is not a number"),
        ({**EMAIL, "PELLACIA_SMTP_URL": "smtp://:secret@mail.test"}, "a password but no user name"),
        ({**EMAIL, "PELLACIA_ALERT_EMAIL_TO": "desk, night"}, "PELLACIA_ALERT_EMAIL_TO 'desk, night' is not"),
        ({**EMAIL, "PELLACIA_ALERT_EMAIL_FROM": "pellacia"}, "PELLACIA_ALERT_EMAIL_FROM 'pellacia' is not"),
        (
            {**EMAIL, "PELLACIA_SMTP_CA_FILE": "/nonexistent/ca.pem"},
            "PELLACIA_SMTP_CA_FILE /nonexistent/ca.pem",
        ),
    ],
)
def test_a_channel_set_in_part_or_wrongly_is_one_clear_line(values: dict[str, str], message: str) -> None:
    with pytest.raises(AlertConfigError) as failure:
        AlertSettings.from_values(values)
    assert message in str(failure.value)
    assert "\n" not in str(failure.value)
    assert "secret" not in str(failure.value) and TOKEN not in str(failure.value)


def test_empty_variables_count_as_unset() -> None:
    settings = AlertSettings.from_values({"PELLACIA_TELEGRAM_BOT_TOKEN": " ", "PELLACIA_SMTP_URL": ""})
    assert settings.channels() == []


def test_a_private_ca_file_is_kept(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("placeholder")
    email = AlertSettings.from_values({**EMAIL, "PELLACIA_SMTP_CA_FILE": str(ca)}).email
    assert email is not None and email.ca_file == str(ca)


def test_run_link(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_link("abc-123") == "http://127.0.0.1:3000/runs/abc-123"
    monkeypatch.setenv("PELLACIA_UI_URL", "https://factory.pellacia.test/dagster/")
    assert run_link("abc-123") == "https://factory.pellacia.test/dagster/runs/abc-123"
