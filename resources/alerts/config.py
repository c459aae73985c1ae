"""The alert channels from the environment, and the links alerts carry.

Telegram: PELLACIA_TELEGRAM_BOT_TOKEN and PELLACIA_TELEGRAM_CHAT_ID (PELLACIA_TELEGRAM_API_URL: another
Bot API server, default the real one). Email: PELLACIA_SMTP_URL (`smtp://user:pass@host:port`, STARTTLS,
default port 587; `smtps://...`, implicit TLS, default port 465; user and password percent-encoded),
PELLACIA_ALERT_EMAIL_TO (comma-separated) and PELLACIA_ALERT_EMAIL_FROM, PELLACIA_SMTP_CA_FILE for a
private CA. A channel none of whose variables is set is off; one set only in part is an error naming what
is missing, so a typo never silently turns alerts off. PELLACIA_UI_URL: the Dagster UI that alerts link to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from resources.alerts.channels import AlertChannel, Alerter
from resources.alerts.email import EmailChannel, SmtpSettings
from resources.alerts.telegram import TELEGRAM_API_URL, TelegramChannel

DEFAULT_UI_URL = "http://127.0.0.1:3000"
SMTP_PORTS = {"smtp": 587, "smtps": 465}
TELEGRAM_VARIABLES = ("PELLACIA_TELEGRAM_BOT_TOKEN", "PELLACIA_TELEGRAM_CHAT_ID")
EMAIL_VARIABLES = ("PELLACIA_SMTP_URL", "PELLACIA_ALERT_EMAIL_TO", "PELLACIA_ALERT_EMAIL_FROM")
_BOT_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_CHAT_ID = re.compile(r"-?\d+|@[A-Za-z][A-Za-z0-9_]{3,}")


class AlertConfigError(ValueError):
    """An alert channel configured in part or wrongly; the message names the variable, never a secret."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(repr=False)
    chat_id: str
    api_url: str = TELEGRAM_API_URL


@dataclass(frozen=True)
class AlertSettings:
    """The configured channels (None: off) and the UI that alerts link to."""

    telegram: TelegramSettings | None
    email: SmtpSettings | None
    ui_url: str = DEFAULT_UI_URL

    @classmethod
    def from_values(cls, values: Mapping[str, str | None]) -> AlertSettings:
        """Settings from PELLACIA_* names to values (the environment, or a resource's fields)."""
        clean = {name: value.strip() for name, value in values.items() if value and value.strip()}
        return cls(
            telegram=_telegram(clean),
            email=_email(clean),
            ui_url=clean.get("PELLACIA_UI_URL", DEFAULT_UI_URL).rstrip("/"),
        )

    @classmethod
    def from_env(cls) -> AlertSettings:
        return cls.from_values(
            {name: value for name, value in os.environ.items() if name.startswith("PELLACIA_")}
        )

    def channels(self) -> list[AlertChannel]:
        channels: list[AlertChannel] = []
        if self.telegram is not None:
            channels.append(
                TelegramChannel(self.telegram.token, self.telegram.chat_id, self.telegram.api_url)
            )
        if self.email is not None:
            channels.append(EmailChannel(self.email))
        return channels


def alerter_from_env() -> Alerter:
    """Every channel the environment configures (none: an Alerter that sends nowhere)."""
    return Alerter(AlertSettings.from_env().channels())


def run_link(run_id: str) -> str:
    """The Dagster UI's page of one run (PELLACIA_UI_URL, default the local `serve`)."""
    ui = (os.environ.get("PELLACIA_UI_URL", "").strip() or DEFAULT_UI_URL).rstrip("/")
    return f"{ui}/runs/{run_id}"


def _missing(values: Mapping[str, str], names: tuple[str, ...], channel: str) -> None:
    given = [name for name in names if name in values]
    absent = [name for name in names if name not in values]
    if given and absent:
        raise AlertConfigError(
            f"{channel} alerts are configured in part: {', '.join(given)} set but {', '.join(absent)} "
            "not (set all of them, or none)"
        )


def _telegram(values: Mapping[str, str]) -> TelegramSettings | None:
    _missing(values, TELEGRAM_VARIABLES, "Telegram")
    if TELEGRAM_VARIABLES[0] not in values:
        return None
    token, chat_id = values["PELLACIA_TELEGRAM_BOT_TOKEN"], values["PELLACIA_TELEGRAM_CHAT_ID"]
    if not _BOT_TOKEN.fullmatch(token):
        raise AlertConfigError(
            "PELLACIA_TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters, "
            "as @BotFather hands it out)"
        )
    if not _CHAT_ID.fullmatch(chat_id):
        raise AlertConfigError(
            f"PELLACIA_TELEGRAM_CHAT_ID {chat_id!r} is neither a numeric chat id nor a @channelusername"
        )
    api_url = values.get("PELLACIA_TELEGRAM_API_URL", TELEGRAM_API_URL)
    if urlsplit(api_url).scheme not in ("http", "https") or not urlsplit(api_url).netloc:
        raise AlertConfigError(f"PELLACIA_TELEGRAM_API_URL {api_url!r} is not an http(s) URL")
    return TelegramSettings(token=token, chat_id=chat_id, api_url=api_url.rstrip("/"))


def _email(values: Mapping[str, str]) -> SmtpSettings | None:
    _missing(values, EMAIL_VARIABLES, "Email")
    if EMAIL_VARIABLES[0] not in values:
        return None
    parts = urlsplit(values["PELLACIA_SMTP_URL"])
    scheme = parts.scheme.lower()
    if scheme not in SMTP_PORTS:
        raise AlertConfigError(
            "PELLACIA_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (implicit TLS)"
        )
    try:
        port = parts.port or SMTP_PORTS[scheme]
    except ValueError:
        raise AlertConfigError("PELLACIA_SMTP_URL has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise AlertConfigError("PELLACIA_SMTP_URL names no host: smtp://user:password@host:port")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and username is None:
        raise AlertConfigError("PELLACIA_SMTP_URL has a password but no user name")
    ca_file = values.get("PELLACIA_SMTP_CA_FILE")
    if ca_file is not None and not Path(ca_file).is_file():
        raise AlertConfigError(f"PELLACIA_SMTP_CA_FILE {ca_file}: no such file")
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=scheme == "smtps",
        sender=_address(values["PELLACIA_ALERT_EMAIL_FROM"], "PELLACIA_ALERT_EMAIL_FROM"),
        recipients=_recipients(values["PELLACIA_ALERT_EMAIL_TO"]),
        username=username,
        password=password,
        ca_file=ca_file,
    )


def _address(value: str, variable: str) -> str:
    address = parseaddr(value)[1]
    if "@" not in address or "\n" in value or "\r" in value:
        raise AlertConfigError(f"{variable} {value!r} is not an email address")
    return value


def _recipients(value: str) -> tuple[str, ...]:
    recipients = tuple(address for _name, address in getaddresses([value]) if address)
    if not recipients or any("@" not in address for address in recipients):
        raise AlertConfigError(
            f"PELLACIA_ALERT_EMAIL_TO {value!r} is not a comma-separated list of email addresses"
        )
    return recipients
