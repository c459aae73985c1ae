"""What every alert channel is: something that delivers one text message or says why it could not."""

from __future__ import annotations

from typing import Protocol


class AlertError(RuntimeError):
    """A channel could not deliver a message; the text says which channel and why."""


class AlertChannel(Protocol):
    name: str

    def send(self, text: str) -> None:
        """Deliver `text` or raise `AlertError`."""


class Alerter:
    """Every configured channel; a message counts as delivered where at least one channel took it."""

    def __init__(self, channels: list[AlertChannel]) -> None:
        self.channels = channels

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
