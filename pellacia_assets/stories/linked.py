"""A video link's story: the video downloaded into the media store and what it says, transcribed, as the body.

The clip stays in `media/<key>/source/` (`source.<ext>`, with `transcript.json` beside it): the `video`
asset uses it as the short's background, and materialising the story again reuses both instead of
downloading and transcribing again. The title, author and URL stay the link's own, for credit.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import tempfile
from pathlib import Path

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.probe import probe
from pellacia_assets.sources.links import SOURCE_KIND, download
from pellacia_assets.stories.loading import SourceRecord, StoryError
from resources.media_store.store import MediaStore
from resources.transcriber.base import Transcriber

SOURCE_ASSET = "source"
TRANSCRIPT_FILE = "transcript.json"
CLIP_STEM = "source"
# Whisper's own input format: decoding the clip's audio once to it spares each backend its own decoder.
WHISPER_SAMPLE_RATE = 16_000


def is_link(source_kind: str) -> bool:
    return source_kind == SOURCE_KIND


def source_clip(store: MediaStore, key: str) -> Path | None:
    """The downloaded clip of link story `key`, or None when there is none (not a link, not yet fetched)."""
    folder = store.asset_dir(key, SOURCE_ASSET)
    clips = (
        sorted(path for path in folder.glob(f"{CLIP_STEM}.*") if path.is_file()) if folder.is_dir() else []
    )
    return clips[0] if clips else None


def transcribed(record: SourceRecord, store: MediaStore, transcriber: Transcriber) -> SourceRecord:
    """`record` with its body replaced by what its video says: downloaded into `media/<key>/source/` and
    transcribed the first time, read back afterwards. StoryError when the video cannot become a story
    (no picture, no sound, no speech); LinkError when it cannot be downloaded."""
    transcript_file = store.asset_dir(record.key, SOURCE_ASSET) / TRANSCRIPT_FILE
    if source_clip(store, record.key) is None or not transcript_file.is_file():
        with store.stage(record.key, SOURCE_ASSET) as folder:
            clip = download(record.url or record.source_ref, folder)
            _check_clip(record, clip)
            text = _transcribe(record, clip, transcriber)
            saved = {"url": record.url or record.source_ref, "clip": clip.name, "text": text}
            (folder / TRANSCRIPT_FILE).write_text(json.dumps(saved, ensure_ascii=False, indent=2), "utf-8")
    text = str(json.loads(transcript_file.read_text(encoding="utf-8"))["text"])
    return dataclasses.replace(record, body=text, language=None)


def _check_clip(record: SourceRecord, clip: Path) -> None:
    try:
        info = probe(clip)
    except MediaError as error:
        raise StoryError(
            f"story {record.key!r}: the download of {record.url} is not a video: {error}"
        ) from error
    if not info.has_video or not info.has_audio:
        missing = "no picture" if not info.has_video else "no sound"
        raise StoryError(
            f"story {record.key!r}: the video at {record.url} has {missing}; a link story needs both"
        )


def _transcribe(record: SourceRecord, clip: Path, transcriber: Transcriber) -> str:
    """What the clip says, as Whisper heard it (in the language the link's page named, else English)."""
    language = (record.language or "en").split("-")[0].lower()
    with tempfile.TemporaryDirectory(prefix="link-audio-") as scratch:
        wav = Path(scratch) / "audio.wav"
        command = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(clip), "-vn", "-ac", "1",
                   "-ar", str(WHISPER_SAMPLE_RATE), "-c:a", "pcm_s16le", str(wav)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-1:] or ["no error output"]
            raise StoryError(
                f"story {record.key!r}: the sound of {record.url} cannot be decoded: {detail[0]}"
            )
        text = " ".join(transcriber.transcribe(wav, language=language).text.split())
    if not any(char.isalpha() for char in text):
        raise StoryError(
            f"story {record.key!r}: Whisper heard no speech in {record.url}; a link story retells what its "
            "video says"
        )
    return text
