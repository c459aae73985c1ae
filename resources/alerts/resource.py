"""Alerts as a Dagster resource: the channels' configuration shown in the UI (secrets as EnvVars), the
alerter built on demand."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field
from sqlalchemy.orm import Session, sessionmaker

from resources.alerts import incidents
from resources.alerts.channels import Alerter
from resources.alerts.config import DEFAULT_UI_URL, AlertSettings
from resources.alerts.incidents import Incident
from resources.alerts.telegram import TELEGRAM_API_URL

# field -> the variable it mirrors; `from_env` wires the set ones as EnvVars, so the UI shows names only
VARIABLES = {
    "telegram_bot_token": "PELLACIA_TELEGRAM_BOT_TOKEN",
    "telegram_chat_id": "PELLACIA_TELEGRAM_CHAT_ID",
    "telegram_api_url": "PELLACIA_TELEGRAM_API_URL",
    "smtp_url": "PELLACIA_SMTP_URL",
    "alert_email_to": "PELLACIA_ALERT_EMAIL_TO",
    "alert_email_from": "PELLACIA_ALERT_EMAIL_FROM",
    "smtp_ca_file": "PELLACIA_SMTP_CA_FILE",
    "ui_url": "PELLACIA_UI_URL",
}


class AlertsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Telegram and email alerts, one per incident; a channel whose fields are empty is off."""

    telegram_bot_token: str | None = Field(default=None, repr=False, description="a secret: wire an EnvVar")
    telegram_chat_id: str | None = None
    telegram_api_url: str = TELEGRAM_API_URL
    smtp_url: str | None = Field(
        default=None, repr=False, description="holds the SMTP password: wire an EnvVar"
    )
    alert_email_to: str | None = None
    alert_email_from: str | None = None
    smtp_ca_file: str | None = None
    ui_url: str = DEFAULT_UI_URL

    @classmethod
    def from_env(cls) -> AlertsResource:
        """Every PELLACIA_* variable that is set, as a `dg.EnvVar` (read where the resource is used, never
        shown); the unset ones keep their defaults."""
        set_now = {
            field: dg.EnvVar(variable)
            for field, variable in VARIABLES.items()
            if os.environ.get(variable, "").strip()
        }
        return cls(**set_now)

    def settings(self) -> AlertSettings:
        """The fields as settings; an EnvVar Dagster has not resolved (the resource used directly, outside
        a run or sensor) is read from the environment here."""
        return AlertSettings.from_values(
            {variable: _value(getattr(self, field)) for field, variable in VARIABLES.items()}
        )

    def get_alerter(self) -> Alerter:
        """The configured channels; raises AlertConfigError naming what a half-configured one lacks."""
        return Alerter(self.settings().channels())

    def run_link(self, run_id: str) -> str:
        return f"{self.settings().ui_url}/runs/{run_id}"

    def raise_alert(self, factory: sessionmaker[Session], incident: Incident) -> bool:
        """One alert per open incident (see `incidents.raise_alert`); True when this call sent it."""
        return incidents.raise_alert(factory, self.get_alerter(), incident)

    def resolve_alert(
        self,
        factory: sessionmaker[Session],
        cause: str,
        story_key: str | None,
        platform: str | None,
        message: str,
    ) -> bool:
        """Close the open incident and say so; True when one was open."""
        return incidents.resolve_alert(factory, self.get_alerter(), cause, story_key, platform, message)


def _value(field_value: str | None) -> str | None:
    return field_value.get_value() if isinstance(field_value, dg.EnvVar) else field_value
