"""The manifests the production assets hand each other: typed round trips and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pellacia_assets.audio.loudness import Loudness
from pellacia_assets.audio.voiceover import SegmentTiming
from pellacia_assets.manifests import (
    CAPTIONS_MANIFEST,
    VIDEO_MANIFEST,
    VOICEOVER_MANIFEST,
    CaptionPart,
    CaptionsManifest,
    ManifestError,
    VideoManifest,
    VideoPart,
    VoiceoverManifest,
    VoiceoverPart,
    load_captions,
    load_video,
    load_voiceover,
    write_manifest,
)
from resources.media_store.store import MediaStore

VOICEOVER = VoiceoverManifest(
    "hibari/heart",
    (
        VoiceoverPart(
            1,
            "part-1.wav",
            31.5,
            48_000,
            (SegmentTiming("The hook.", 0.0, 1.75), SegmentTiming("The story.", 1.9, 31.5)),
            Loudness(-14.1, -1.6, 4.2),
        ),
    ),
)


def test_voiceover_round_trips_through_the_store(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    with store.stage("s", "voiceover") as folder:
        write_manifest(folder, VOICEOVER_MANIFEST, VOICEOVER)
    loaded = load_voiceover(store, "s")
    assert loaded == VOICEOVER
    assert loaded.part(1).hook_end_s == 1.75


def test_captions_and_video_round_trip(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    captions = CaptionsManifest(
        (CaptionPart(1, "part-1.ass", "part-1.words.json", 1.75, 0.04, 0.93, 0.21, 0.05, "the hook"),)
    )
    video = VideoManifest((VideoPart(1, "part-1.mp4", "part-1.png", 31.5, 7_340_032, 18.2),))
    with store.stage("s", "captions") as folder:
        write_manifest(folder, CAPTIONS_MANIFEST, captions)
    with store.stage("s", "video") as folder:
        write_manifest(folder, VIDEO_MANIFEST, video)
    assert load_captions(store, "s") == captions
    assert load_video(store, "s") == video
    assert load_video(store, "s").part(1).size_bytes == 7_340_032


def test_a_manifest_missing_a_field_names_it_and_the_asset_to_rerun(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    with store.stage("s", "video") as folder:
        (folder / VIDEO_MANIFEST).write_text(json.dumps({"parts": [{"part": 1, "file": "part-1.mp4"}]}))
    with pytest.raises(
        ManifestError, match=r"video\.json is not a valid video manifest \(missing field 'poster'\)"
    ):
        load_video(store, "s")


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"voice": "v", "parts": [{"part": "one"}]}'])
def test_a_malformed_voiceover_manifest_is_a_clear_error(tmp_path: Path, text: str) -> None:
    store = MediaStore(tmp_path)
    with store.stage("s", "voiceover") as folder:
        (folder / VOICEOVER_MANIFEST).write_text(text)
    with pytest.raises(ManifestError, match="materialise 'voiceover' again"):
        load_voiceover(store, "s")


def test_a_missing_manifest_says_which_asset_to_materialise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="materialise the 'captions' asset"):
        load_captions(MediaStore(tmp_path), "s")


def test_a_part_the_manifest_lacks_is_refused() -> None:
    with pytest.raises(ManifestError, match="no part 2"):
        VOICEOVER.part(2)
