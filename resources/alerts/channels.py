"""What every alert channel is: something that delivers one text message or says why it could not."""

from __future__ import annotations

from typing import Protocol


class AlertError(RuntimeError):
    """A channel could not deliver a message; the text says why in one line, never with a secret (the
    Alerter reports it under the channel's name)."""


class AlertChannel(Protocol):
    name: str

    def send(self, text: str) -> None:
        """Deliver `text` or raise `AlertError`."""


class Alerter:
    """Every configured channel; a message counts as delivered where at least one channel took it."""

    def __init__(self, channels: list[AlertChannel]) -> None:
        self.channels = channels

    def __repr__(self) -> str:
        return f"Alerter({[channel.name for channel in self.channels]})"

    def send(self, text: str) -> dict[str, str | None]:
        """Each channel's outcome: None when delivered, else the reason it was not."""
        outcome: dict[str, str | None] = {}
        for channel in self.channels:
            try:
                channel.send(text)
            except AlertError as error:
                outcome[channel.name] = str(error)
            else:
                outcome[channel.name] = None
        return outcome


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every secret (a bot token, a password) replaced, for messages, reprs and logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text
