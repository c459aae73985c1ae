"""Sidecars: what a phase-05 drop asks for, and a one-line refusal naming file and field for all else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pellacia_assets.delivery.sidecar import (
    MAX_SIDECAR_BYTES,
    Delivery,
    DeliveryError,
    parse_sidecar,
    read_sidecar,
)

UTC_ZONE = ZoneInfo("UTC")
ORIGIN = "/drops/flood.json"


def parse(data: object, zone: ZoneInfo = UTC_ZONE) -> Delivery:
    return parse_sidecar(json.dumps(data), ORIGIN, zone)


def test_a_full_sidecar_becomes_a_delivery_in_utc() -> None:
    delivery = parse(
        {
            "title": "Flood in the valley",
            "description": "The river rose overnight.\n\nMore at https://example.com/flood",
            "hashtags": ["#flood", "#Valencia", "#FLOOD"],
            "platforms": ["youtube", "TikTok", "youtube"],
            "priority": "breaking",
            "scheduled_at": "2026-12-27T14:00",
            "timezone": "America/New_York",
        }
    )
    assert delivery == Delivery(
        title="Flood in the valley",
        description="The river rose overnight.\n\nMore at https://example.com/flood",
        hashtags=("#flood", "#Valencia"),
        platforms=("youtube", "tiktok"),
        priority="breaking",
        publish_after=datetime(2026, 12, 27, 19, 0, tzinfo=UTC),
    )


def test_only_the_title_is_required_and_all_means_every_configured_platform() -> None:
    delivery = parse({"title": "  A   title\u001b[31m ", "hashtags": "#a #b,#c", "platforms": "all"})
    assert delivery == Delivery(title="A title", hashtags=("#a", "#b", "#c"))


def test_a_time_without_zone_is_in_the_default_zone_and_an_offset_is_kept() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse({"title": "t", "scheduled_at": "2026-07-01 12:00"}, berlin).publish_after == datetime(
        2026, 7, 1, 10, 0, tzinfo=UTC
    )
    assert parse({"title": "t", "scheduled_at": "2026-07-01T12:00+02:00"}).publish_after == datetime(
        2026, 7, 1, 10, 0, tzinfo=UTC
    )


def test_emoji_hashtags_pass_where_only_instagram_is_named() -> None:
    assert parse({"title": "t", "hashtags": ["#sun☀️"], "platforms": ["instagram"]}).hashtags == ("#sun☀️",)


def test_control_characters_go_and_paragraphs_stay() -> None:
    delivery = parse({"title": "t", "description": "one\u0007  two\r\n\r\n\r\n\r\nthree"})
    assert delivery.description == "one two\n\nthree"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"title": ', "malformed JSON at line 1, column 11"),
        ("[1, 2]", "a sidecar is a JSON object"),
        ("{}", "missing 'title'"),
        ('{"title": "   "}', "'title' is empty"),
        ('{"title": 5}', "'title' must be a string, not int"),
        ('{"title": "t", "platfroms": ["x"]}', "unknown field 'platfroms'"),
        ('{"title": "t", "platforms": ["youtube", "myspace"]}', "'platforms': unknown platform 'myspace'"),
        ('{"title": "t", "platforms": []}', "'platforms' is empty"),
        ('{"title": "t", "platforms": "youtube"}', "'platforms' must be \"all\" or a list"),
        ('{"title": "t", "priority": "urgent"}', "'priority' must be one of breaking, normal, backlog"),
        ('{"title": "t", "priority": true}', "'priority' must be one of"),
        ('{"title": "t", "scheduled_at": "tomorrow"}', "'scheduled_at' 'tomorrow' is not a date and time"),
        ('{"title": "t", "scheduled_at": 5}', "'scheduled_at' must be a string"),
        ('{"title": "t", "timezone": "Mars/Olympus"}', "'timezone' 'Mars/Olympus' is not a known time zone"),
        (
            '{"title": "t", "scheduled_at": "2026-03-08T02:30", "timezone": "America/New_York"}',
            "does not exist in America/New_York",
        ),
        (
            '{"title": "t", "scheduled_at": "2026-12-27T14:00+02:00", "timezone": "America/New_York"}',
            "carries an offset that is not America/New_York's",
        ),
        ('{"title": "t", "hashtags": "#ok nohash"}', "'hashtags': 'nohash' does not start with a single #"),
        ('{"title": "t", "hashtags": ["#two words"]}', "contains a space"),
        ('{"title": "t", "hashtags": ["#sun☀️"]}', "which youtube does not link"),
        ('{"title": "t", "hashtags": ["#a\\u202eb"]}', "bidirectional control character"),
        ('{"title": "t", "hashtags": 5}', "'hashtags' must be a list of strings"),
        ('{"title": "t", "description": ["x"]}', "'description' must be a string, not list"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_every_problem_is_one_line_naming_file_and_field(text: str, expected: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        parse_sidecar(text, ORIGIN, UTC_ZONE)
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"{ORIGIN}: ")
    assert "\n" not in message


def test_reading_refuses_big_binary_and_linked_files(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"title": "t", "description": "' + "x" * MAX_SIDECAR_BYTES + '"}')
    with pytest.raises(DeliveryError, match=r"big.json: .* bytes is too big for a sidecar"):
        read_sidecar(big, UTC_ZONE)
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"title": "café"}'.encode("latin-1"))
    with pytest.raises(DeliveryError, match=r"latin1.json: not UTF-8 text \(byte 0xe9 at offset 14\)"):
        read_sidecar(latin1, UTC_ZONE)
    outside = tmp_path / "outside.json"
    outside.write_text('{"title": "t"}')
    link = tmp_path / "link.json"
    link.symlink_to(outside)
    with pytest.raises(DeliveryError, match=r"link.json: cannot be read"):
        read_sidecar(link, UTC_ZONE)
    good = tmp_path / "good.json"
    good.write_bytes(b'\xef\xbb\xbf{"title": "t"}')  # a byte-order mark is fine
    assert read_sidecar(good, UTC_ZONE).title == "t"


def test_the_source_record_carries_the_video_and_the_words(tmp_path: Path) -> None:
    delivery = parse({"title": "t", "description": "d", "hashtags": "#a", "platforms": ["x"]})
    record = delivery.source_record("phase05-clip", "phase05", tmp_path / "clip.mp4")
    assert (record.key, record.source_kind, record.source_ref) == (
        "phase05-clip",
        "phase05",
        str(tmp_path / "clip.mp4"),
    )
    assert (record.title, record.body, record.tags, record.platforms) == ("t", "d", ("#a",), ("x",))
