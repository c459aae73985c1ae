"""What every source hands the intake gate, and the gate itself: dedupe, approval, skips, the cursor.

A source's `fetch(cursor)` reads what is new since `cursor` and returns candidates, the items it skipped
(with a reason) and the cursor to keep. The cursor is written in the transaction that admits the
candidates, so a crash between the two re-reads the same items, which dedupe then drops.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import transaction
from resources.database.intake import Admission, admit, read_cursor, record_skip, write_cursor

SOURCE_NAMES = ("reddit", "feeds", "links")
APPROVAL_MODES = ("required", "auto")
# Files and phase-05 drops were chosen by a person already; what a source fetched by itself waits for one.
DEFAULT_APPROVAL = {"reddit": "required", "feeds": "required", "links": "auto"}
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|igshid|si|ref|ref_src|feature)$", re.IGNORECASE)


class SourceConfigError(ValueError):
    """A source that is not configured, or configured wrongly; the message names the variable."""


@dataclass(frozen=True)
class Candidate:
    """A story a source found: its record, and what dedupe compares besides the key."""

    record: SourceRecord
    canonical_url: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class Skip:
    """An item the source could not take, and why (`ref`: the item's id or URL)."""

    ref: str
    reason: str


@dataclass
class Fetch:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)


class Source(Protocol):
    name: str

    def fetch(self, cursor: dict[str, Any]) -> Fetch: ...


@dataclass
class PollReport:
    """One poll of one source: what was added (pending or approved), what was already there, what was
    skipped and why."""

    source: str
    added: list[Admission] = field(default_factory=list)
    duplicates: list[Admission] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    error: str | None = None

    @property
    def approved_keys(self) -> list[str]:
        return [a.key for a in self.added if a.approval == "approved"]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": [{"key": a.key, "approval": a.approval} for a in self.added],
            "duplicates": [{"key": a.key, "same_as": a.same_as, "reason": a.reason} for a in self.duplicates],
            "skipped": [{"ref": s.ref, "reason": s.reason} for s in self.skipped],
            "error": self.error,
        }


def approval_mode(source: str) -> str:
    """`required` or `auto` for `source`: PELLACIA_<SOURCE>_APPROVAL, else PELLACIA_APPROVAL, else the
    source's default (fetched sources wait for an editor, links and files someone chose do not)."""
    for name in (f"PELLACIA_{source.upper()}_APPROVAL", "PELLACIA_APPROVAL"):
        value = os.environ.get(name, "").strip().lower()
        if value:
            if value not in APPROVAL_MODES:
                raise SourceConfigError(f"{name}={value!r}: use required or auto")
            return value
    return DEFAULT_APPROVAL.get(source, "auto")


def content_hash(text: str) -> str:
    """The hash dedupe compares: the text lowercased, punctuation and spacing ignored."""
    words = re.findall(r"\w+", text.lower())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def canonical_url(url: str) -> str:
    """`url` as one story has one address: lowercase scheme and host, no fragment, no default port, no
    tracking parameters, no trailing slash, the rest of the query sorted."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, host, path, query, ""))


def url_hash(url: str) -> str:
    return hashlib.sha256(canonical_url(url).encode()).hexdigest()[:16]


def poll(source: Source, factory: sessionmaker[Session]) -> PollReport:
    """Fetch what is new from `source` and admit it: each candidate once, each skip on record, the new
    cursor kept with them. A failing fetch is reported (`error`) and changes nothing."""
    report = PollReport(source.name)
    with transaction(factory) as session:
        cursor = read_cursor(session, source.name)
    try:
        fetched = source.fetch(cursor)
    except SourceConfigError:
        raise
    except Exception as error:  # one source's outage is reported, never raised into a sensor loop
        report.error = f"{type(error).__name__}: {error}"
        return report
    mode = approval_mode(source.name)
    with transaction(factory) as session:
        for candidate in fetched.candidates:
            _admit_one(session, candidate, mode, report)
        for skip in fetched.skipped:
            record_skip(session, source.name, skip.ref, skip.reason)
            report.skipped.append(skip)
        write_cursor(session, source.name, fetched.cursor)
    return report


def _admit_one(session: Session, candidate: Candidate, mode: str, report: PollReport) -> None:
    admission = admit(
        session,
        candidate.record,
        approval="pending" if mode == "required" else "approved",
        canonical_url=candidate.canonical_url,
        content_hash=candidate.content_hash,
    )
    (report.added if admission.outcome == "added" else report.duplicates).append(admission)
