"""The sidecar of a delivered video: `NAME.json` beside `NAME.mp4`, saying what to post it with and where.

    {"title": "...", "description": "...", "hashtags": ["#a", "#b"] or "#a #b",
     "platforms": ["youtube", ...] or "all", "priority": "breaking" | "normal" | "backlog",
     "scheduled_at": "2026-12-27T14:00", "timezone": "America/New_York"}

Only `title` is required. Every refusal is a `DeliveryError` of one line naming the file and the field,
because it becomes the quarantine note (`NAME.error.txt`), the manual-queue entry and the alert a person
reads. An unknown field is refused too: a misspelt "platfroms" must not silently mean every platform.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pellacia_assets.stories.loading import SourceRecord, strip_controls
from pellacia_assets.stories.model import PRIORITIES, Priority
from resources.platforms import PLATFORMS, UnknownPlatformError, platform_named
from resources.platforms.limits import hashtag_problem

MAX_SIDECAR_BYTES = 64 * 1024
FIELDS = ("title", "description", "hashtags", "platforms", "priority", "scheduled_at", "timezone")
_HASHTAG_SEPARATORS = re.compile(r"[\s,]+")


class DeliveryError(ValueError):
    """A delivery that cannot be posted as it is; one line naming the file and the field."""


@dataclass(frozen=True)
class Delivery:
    """What a sidecar asks for. `platforms` empty: every configured platform ("all"); `publish_after`
    is in UTC, None for as soon as a slot is free."""

    title: str
    description: str = ""
    hashtags: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    priority: Priority = "normal"
    publish_after: datetime | None = None

    def source_record(self, key: str, source_kind: str, video: Path) -> SourceRecord:
        """The story's source record: the video's absolute path is its `source_ref`, the description
        its body and the hashtags its tags (what the `script` and `video` assets read back)."""
        return SourceRecord(
            key=key,
            source_kind=source_kind,
            source_ref=str(video.absolute()),
            title=self.title,
            body=self.description,
            priority=self.priority,
            tags=self.hashtags,
            platforms=self.platforms,
            publish_after=self.publish_after,
        )


def read_sidecar(path: Path, default_zone: ZoneInfo) -> Delivery:
    """The delivery `path` describes; never follows a symbolic link or reads more than the limit."""
    origin = str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise DeliveryError(f"{origin}: cannot be read ({error.strerror or error})") from error
    with os.fdopen(descriptor, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_SIDECAR_BYTES:
            raise DeliveryError(
                f"{origin}: {size:,} bytes is too big for a sidecar (limit {MAX_SIDECAR_BYTES:,})"
            )
        data = handle.read(MAX_SIDECAR_BYTES + 1)
    if len(data) > MAX_SIDECAR_BYTES:
        raise DeliveryError(f"{origin}: too big for a sidecar (limit {MAX_SIDECAR_BYTES:,} bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DeliveryError(
            f"{origin}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from error
    return parse_sidecar(text, origin, default_zone)


def parse_sidecar(text: str, origin: str, default_zone: ZoneInfo) -> Delivery:
    """The delivery in sidecar JSON `text`; `origin` names it in errors, `default_zone` is the zone of a
    `scheduled_at` that names none (the posting policy's PELLACIA_TIMEZONE)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeliveryError(
            f"{origin}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise DeliveryError(f"{origin}: the JSON is nested too deeply to be a sidecar") from error
    if not isinstance(data, dict):
        raise DeliveryError(f"{origin}: a sidecar is a JSON object with at least a 'title'")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise DeliveryError(f"{origin}: unknown field {unknown[0]!r}; a sidecar has {', '.join(FIELDS)}")
    title = " ".join(strip_controls(_string(data, "title", origin, required=True)).split())
    if not title:
        raise DeliveryError(f"{origin}: 'title' is empty; every post needs a title")
    platforms = parse_platform_list(data.get("platforms", "all"), origin)
    priority = data.get("priority", "normal")
    if priority not in PRIORITIES:
        raise DeliveryError(f"{origin}: 'priority' must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    zone_name = _string(data, "timezone", origin)
    at = _string(data, "scheduled_at", origin)
    zone = zone_named(zone_name, origin) if zone_name else default_zone
    return Delivery(
        title=title,
        description=_tidy(strip_controls(_string(data, "description", origin))),
        hashtags=parse_hashtags(data.get("hashtags", []), platforms, origin),
        platforms=platforms,
        priority=priority,
        publish_after=schedule_time(at, zone, origin, offset_allowed=not zone_name) if at else None,
    )


def parse_platform_list(value: object, origin: str) -> tuple[str, ...]:
    """A list of platform names or "all" (every configured platform: the empty tuple)."""
    if value == "all":
        return ()
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise DeliveryError(f"{origin}: 'platforms' must be \"all\" or a list of platform names")
    if not value:
        raise DeliveryError(f"{origin}: 'platforms' is empty; name at least one of {', '.join(PLATFORMS)}")
    try:
        return tuple(dict.fromkeys(platform_named(name) for name in value))
    except UnknownPlatformError as error:
        raise DeliveryError(f"{origin}: 'platforms': {error}") from error


def parse_hashtags(value: object, platforms: tuple[str, ...], origin: str) -> tuple[str, ...]:
    """`["#a", "#b"]` or `"#a #b"` (spaces or commas between), each one hashtag that every platform the
    video goes to links (`limits.hashtag_problem`); duplicates (ignoring case) dropped."""
    if isinstance(value, str):
        tags = [tag for tag in _HASHTAG_SEPARATORS.split(value) if tag]
    elif isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        tags = [tag.strip() for tag in value]
    else:
        raise DeliveryError(f"{origin}: 'hashtags' must be a list of strings or one string such as \"#a #b\"")
    chosen: dict[str, str] = {}
    for tag in tags:
        for platform in platforms or PLATFORMS:
            problem = hashtag_problem(platform, tag)
            if problem is not None:
                raise DeliveryError(f"{origin}: 'hashtags': {tag!r} {problem} (on {platform})")
        chosen.setdefault(tag.lower(), tag)
    return tuple(chosen.values())


def zone_named(name: str, origin: str, field: str = "'timezone'") -> ZoneInfo:
    """An IANA zone; `field` names where it came from in the error (a sidecar key, a CLI option)."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise DeliveryError(
            f"{origin}: {field} {name!r} is not a known time zone (e.g. America/New_York)"
        ) from error


def schedule_time(
    text: str, zone: ZoneInfo, origin: str, *, offset_allowed: bool = True, field: str = "'scheduled_at'"
) -> datetime:
    """`2026-12-27T14:00` (or with a space) in `zone`, as UTC. A time carrying its own offset is taken as
    it is where `offset_allowed`; a local time the clocks skip (a daylight-saving gap) is refused."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise DeliveryError(
            f"{origin}: {field} {text!r} is not a date and time such as 2026-12-27T14:00"
        ) from error
    if moment.tzinfo is not None:
        if not offset_allowed and moment.utcoffset() != moment.astimezone(zone).utcoffset():
            raise DeliveryError(
                f"{origin}: {field} {text!r} carries an offset that is not {zone.key}'s; "
                "drop the offset or the 'timezone'"
            )
        return moment.astimezone(UTC)
    local = moment.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise DeliveryError(f"{origin}: {field} {text!r} does not exist in {zone.key} (the clocks skip it)")
    return local.astimezone(UTC)


def _string(data: dict[str, Any], field: str, origin: str, *, required: bool = False) -> str:
    value = data.get(field)
    if value is None:
        if required:
            raise DeliveryError(f"{origin}: missing '{field}'")
        return ""
    if not isinstance(value, str):
        raise DeliveryError(f"{origin}: '{field}' must be a string, not {type(value).__name__}")
    return value


def _tidy(text: str) -> str:
    """Spaces squeezed inside lines, at most one blank line in a row; the paragraphs are kept."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
