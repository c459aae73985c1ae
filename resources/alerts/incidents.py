"""One alert per incident: (story, platform, cause) alerts once while open, and once more when resolved.

A failure retried five times is one incident: the first failure opens a row in `alert_incidents` and
sends; later ones only count (`occurrences`). `resolve_alert` closes the open row and sends the resolved
message; the next failure of the same kind is a new incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from resources.alerts.channels import Alerter
from resources.database.engine import locked_transaction
from resources.database.models import AlertIncident


@dataclass(frozen=True)
class Incident:
    """`cause`: a short stable name (`run_failed`, `quarantined`, `manual:reauth`, `check_failed`, ...)."""

    cause: str
    message: str
    story_key: str | None = None
    platform: str | None = None
    link: str | None = None

    @property
    def key(self) -> str:
        return incident_key(self.cause, self.story_key, self.platform)


def incident_key(cause: str, story_key: str | None, platform: str | None) -> str:
    return f"{story_key or '-'}|{platform or '-'}|{cause}"


def alert_text(incident: Incident) -> str:
    where = " on ".join(part for part in (incident.story_key, incident.platform) if part)
    lines = [
        f"Pellacia: {incident.cause.replace('_', ' ')}" + (f" ({where})" if where else ""),
        incident.message,
    ]
    if incident.link:
        lines.append(incident.link)
    return "\n".join(lines)


def _open(session: Session, key: str) -> AlertIncident | None:
    return session.scalars(
        select(AlertIncident).where(AlertIncident.incident_key == key, AlertIncident.status == "open")
    ).first()


def raise_alert(factory: sessionmaker[Session], alerter: Alerter, incident: Incident) -> bool:
    """Send the incident unless it is already open (then only count it); True when this call sent it.

    The row is written before sending, in a locked transaction, so two processes failing at once send
    one alert between them. An open incident that no channel has delivered yet (every channel failed) is
    sent again by its next occurrence, so a passing outage of Telegram or SMTP does not swallow it."""
    now = datetime.now(UTC)
    with locked_transaction(factory, f"alert:{incident.key}") as session:
        row = _open(session, incident.key)
        if row is not None:
            row.occurrences += 1
            row.last_seen_at = now
            if not _undelivered(row.delivered):
                return False
            row.delivered = {}  # an attempt in flight: a concurrent occurrence does not send it too
        else:
            row = AlertIncident(
                incident_key=incident.key,
                story_key=incident.story_key,
                platform=incident.platform,
                cause=incident.cause,
                message=incident.message,
                link=incident.link,
                status="open",
                occurrences=1,
                delivered={},
                opened_at=now,
                last_seen_at=now,
            )
            session.add(row)
            session.flush()
        row_id = row.id
    delivered = alerter.send(alert_text(incident))
    with locked_transaction(factory, f"alert:{incident.key}") as session:
        stored = session.get(AlertIncident, row_id)
        if stored is not None:
            stored.delivered = delivered
    return True


def _undelivered(delivered: dict[str, str | None]) -> bool:
    """Every channel tried and none took it ({} is an attempt in flight, or no channel at all)."""
    return bool(delivered) and all(reason is not None for reason in delivered.values())


def resolve_alert(
    factory: sessionmaker[Session],
    alerter: Alerter,
    cause: str,
    story_key: str | None,
    platform: str | None,
    message: str,
) -> bool:
    """Close the open incident, if any, and say so on every channel; True when one was open."""
    key = incident_key(cause, story_key, platform)
    with locked_transaction(factory, f"alert:{key}") as session:
        existing = _open(session, key)
        if existing is None:
            return False
        existing.status = "resolved"
        existing.resolved_at = datetime.now(UTC)
    where = " on ".join(part for part in (story_key, platform) if part)
    alerter.send(
        f"Pellacia: resolved {cause.replace('_', ' ')}" + (f" ({where})" if where else "") + f"\n{message}"
    )
    return True


def open_incidents(session: Session) -> list[AlertIncident]:
    return list(
        session.scalars(
            select(AlertIncident).where(AlertIncident.status == "open").order_by(AlertIncident.opened_at)
        )
    )
