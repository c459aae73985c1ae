"""AlertsResource: configuration from the environment as EnvVars (never the secrets), alerts through it."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from resources.alerts.config import AlertConfigError
from resources.alerts.incidents import Incident
from resources.alerts.resource import VARIABLES, AlertsResource
from sandbox.telegram import TelegramSandbox, telegram_sandbox


@pytest.fixture
def bot_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    for variable in VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    with telegram_sandbox() as sandbox:
        for name, value in sandbox.env.items():
            monkeypatch.setenv(name, value)
        yield sandbox


def test_from_env_wires_the_set_variables_as_env_vars(bot_api: TelegramSandbox) -> None:
    resource = AlertsResource.from_env()
    assert isinstance(resource.telegram_bot_token, dg.EnvVar)
    assert resource.smtp_url is None
    assert bot_api.token not in repr(resource)
    for usable in (resource, resource.process_config_and_initialize()):
        assert [channel.name for channel in usable.get_alerter().channels] == ["telegram"]


def test_raise_and_resolve_through_the_resource(
    bot_api: TelegramSandbox, factory: sessionmaker[Session]
) -> None:
    resource = AlertsResource.from_env().process_config_and_initialize()
    incident = Incident("check_failed", "video_format: 720x1280 is not 1080x1920", "story-2", None)
    assert resource.raise_alert(factory, incident)
    assert not resource.raise_alert(factory, incident)
    assert resource.resolve_alert(factory, "check_failed", "story-2", None, "video_format passes")
    assert [message["text"] for message in bot_api.messages] == [
        "Pellacia: check failed (story-2)\nvideo_format: 720x1280 is not 1080x1920",
        "Pellacia: resolved check failed (story-2)\nvideo_format passes",
    ]
    assert resource.run_link("r1") == "http://127.0.0.1:3000/runs/r1"


def test_secrets_given_as_plain_strings_stay_out_of_the_repr() -> None:
    resource = AlertsResource(
        telegram_bot_token="1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
        telegram_chat_id="42",
        smtp_url="smtp://user:hunter2@mail.pellacia.test",
    )
    assert "AAHdq" not in repr(resource) and "hunter2" not in repr(resource)


def test_a_half_configured_resource_says_what_is_missing() -> None:
    resource = AlertsResource(smtp_url="smtp://mail.pellacia.test")
    with pytest.raises(AlertConfigError, match="PELLACIA_ALERT_EMAIL_TO, PELLACIA_ALERT_EMAIL_FROM not"):
        resource.get_alerter()
