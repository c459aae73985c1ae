"""The contracts between the production assets: what each one writes for the next, and how it is read.

Each production asset stages its files in the media store (`<story>/<asset>/`) with a manifest naming
them; the next asset reads that manifest through a `load_*` function here, never by indexing JSON with
string keys, so a renamed field is a type error and a stale or hand-edited manifest a clear one.
Plain code (no Dagster): the assets, the CLI and the tests read the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from pellacia_assets.audio.loudness import Loudness
from pellacia_assets.audio.voiceover import SegmentTiming
from pellacia_assets.scripting.model import Script
from pellacia_assets.stories.model import Story
from resources.media_store.store import MediaStore

STORY_FILE = "story.json"
SCRIPT_FILE = "script.json"
SCRIPT_MARKDOWN = "script.md"
VOICEOVER_MANIFEST = "voiceover.json"
CAPTIONS_MANIFEST = "captions.json"
VIDEO_MANIFEST = "video.json"


PartT = TypeVar("PartT", "VoiceoverPart", "CaptionPart", "VideoPart")


class ManifestError(ValueError):
    """A manifest that is missing a field or has one of the wrong type: the upstream asset must run again."""


def part_audio_name(number: int) -> str:
    return f"part-{number}.wav"


def part_subtitles_name(number: int) -> str:
    return f"part-{number}.ass"


def part_words_name(number: int) -> str:
    return f"part-{number}.words.json"


def part_video_name(number: int) -> str:
    return f"part-{number}.mp4"


def part_poster_name(number: int) -> str:
    return f"part-{number}.png"


def part_thumbnail_name(number: int) -> str:
    """The part's 1280x720 thumbnail, beside its video: what `thumbnails.set` sends."""
    return f"part-{number}-thumbnail.jpg"


def part_sheet_name(number: int) -> str:
    return f"part-{number}-sheet.png"


def part_card_name(number: int, card: str) -> str:
    """The PNG of one of a part's cards (hook, badge, end) composited over the video."""
    return f"part-{number}-{card}.png"


@dataclass(frozen=True)
class VoiceoverPart:
    """One part's narration: the WAV, its measured duration, where each segment lies, its loudness."""

    part: int
    file: str
    duration_s: float
    sample_rate: int
    segments: tuple[SegmentTiming, ...]
    loudness: Loudness

    @property
    def hook_end_s(self) -> float:
        """The hook is the first spoken segment; the title card stays up until it ends."""
        return self.segments[0].end_s


@dataclass(frozen=True)
class VoiceoverManifest:
    voice: str
    parts: tuple[VoiceoverPart, ...]

    def part(self, number: int) -> VoiceoverPart:
        return _find(self.parts, number, VOICEOVER_MANIFEST)


@dataclass(frozen=True)
class CaptionPart:
    """One part's subtitles and how well Whisper's transcript matched the script."""

    part: int
    file: str
    words_file: str
    title_end_s: float
    wer: float
    matched_ratio: float
    max_drift_s: float
    mean_drift_s: float
    transcript: str


@dataclass(frozen=True)
class CaptionsManifest:
    parts: tuple[CaptionPart, ...]

    def part(self, number: int) -> CaptionPart:
        return _find(self.parts, number, CAPTIONS_MANIFEST)


@dataclass(frozen=True)
class VideoPart:
    """One finished short: the MP4, its poster frame, and what rendering it measured."""

    part: int
    file: str
    poster: str
    duration_s: float
    size_bytes: int
    render_s: float
    thumbnail: str = ""  # the 1280x720 thumbnail (YouTube's), "" for a delivered video
    sheet: str = ""  # the contact sheet: 6 frames side by side


@dataclass(frozen=True)
class VideoManifest:
    parts: tuple[VideoPart, ...]

    def part(self, number: int) -> VideoPart:
        return _find(self.parts, number, VIDEO_MANIFEST)


def write_manifest(
    folder: Path, name: str, manifest: VoiceoverManifest | CaptionsManifest | VideoManifest
) -> None:
    (folder / name).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")


def load_story(store: MediaStore, story_key: str) -> Story:
    return Story.from_json(store.require(story_key, "story", STORY_FILE).read_text(encoding="utf-8"))


def load_script(store: MediaStore, story_key: str) -> Script:
    return Script.from_json(store.require(story_key, "script", SCRIPT_FILE).read_text(encoding="utf-8"))


def load_voiceover(store: MediaStore, story_key: str) -> VoiceoverManifest:
    data = _read(store, story_key, "voiceover", VOICEOVER_MANIFEST)
    try:
        return VoiceoverManifest(
            voice=str(data["voice"]),
            parts=tuple(
                VoiceoverPart(
                    part=int(entry["part"]),
                    file=str(entry["file"]),
                    duration_s=float(entry["duration_s"]),
                    sample_rate=int(entry["sample_rate"]),
                    segments=tuple(
                        SegmentTiming(str(s["text"]), float(s["start_s"]), float(s["end_s"]))
                        for s in entry["segments"]
                    ),
                    loudness=Loudness(**{k: float(v) for k, v in entry["loudness"].items()}),
                )
                for entry in data["parts"]
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _malformed(store, story_key, "voiceover", VOICEOVER_MANIFEST, error) from error


def load_captions(store: MediaStore, story_key: str) -> CaptionsManifest:
    data = _read(store, story_key, "captions", CAPTIONS_MANIFEST)
    try:
        return CaptionsManifest(
            parts=tuple(
                CaptionPart(
                    part=int(entry["part"]),
                    file=str(entry["file"]),
                    words_file=str(entry["words_file"]),
                    title_end_s=float(entry["title_end_s"]),
                    wer=float(entry["wer"]),
                    matched_ratio=float(entry["matched_ratio"]),
                    max_drift_s=float(entry["max_drift_s"]),
                    mean_drift_s=float(entry["mean_drift_s"]),
                    transcript=str(entry["transcript"]),
                )
                for entry in data["parts"]
            )
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _malformed(store, story_key, "captions", CAPTIONS_MANIFEST, error) from error


def load_video(store: MediaStore, story_key: str) -> VideoManifest:
    data = _read(store, story_key, "video", VIDEO_MANIFEST)
    try:
        return VideoManifest(
            parts=tuple(
                VideoPart(
                    part=int(entry["part"]),
                    file=str(entry["file"]),
                    poster=str(entry["poster"]),
                    duration_s=float(entry["duration_s"]),
                    size_bytes=int(entry["size_bytes"]),
                    render_s=float(entry["render_s"]),
                    thumbnail=str(entry.get("thumbnail", "")),
                    sheet=str(entry.get("sheet", "")),
                )
                for entry in data["parts"]
            )
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _malformed(store, story_key, "video", VIDEO_MANIFEST, error) from error


def _read(store: MediaStore, story_key: str, asset: str, name: str) -> dict[str, Any]:
    path = store.require(story_key, asset, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _malformed(store, story_key, asset, name, error) from error
    if not isinstance(data, dict):
        raise _malformed(store, story_key, asset, name, TypeError("not a JSON object"))
    return data


def _malformed(store: MediaStore, story_key: str, asset: str, name: str, error: Exception) -> ManifestError:
    where = store.asset_dir(story_key, asset) / name
    detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
    return ManifestError(f"{where} is not a valid {asset} manifest ({detail}); materialise '{asset}' again")


def _find(parts: tuple[PartT, ...], number: int, name: str) -> PartT:
    for entry in parts:
        if entry.part == number:
            return entry
    raise ManifestError(f"{name} has no part {number}; materialise it again")
