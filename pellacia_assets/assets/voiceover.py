"""`voiceover`: each part's narration spoken and loudness-normalised to -14 LUFS."""

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table
from pellacia_assets.assets.script import load_script
from pellacia_assets.audio.voiceover import VoiceoverTrack, render_voiceover
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import loudness_problems, part_length_problems
from resources.media_store.resource import MediaStoreResource
from resources.tts.resource import TTSResource

LOUDNESS_CHECK = "voiceover_loudness"
LENGTH_CHECK = "voiceover_part_length"
MANIFEST = "voiceover.json"


def part_audio_name(number: int) -> str:
    return f"part-{number}.wav"


def load_voiceover_manifest(media: MediaStoreResource, story_key: str) -> list[dict[str, Any]]:
    """Per part: file, duration and segment timings, as the voiceover asset measured them."""
    path = media.get_store().require(story_key, "voiceover", MANIFEST)
    parts: list[dict[str, Any]] = json.loads(path.read_text())["parts"]
    return parts


def _manifest_entry(number: int, track: VoiceoverTrack) -> dict[str, Any]:
    return {
        "part": number,
        "file": part_audio_name(number),
        "duration_s": track.duration_s,
        "sample_rate": track.sample_rate,
        "segments": [asdict(segment) for segment in track.segments],
        "loudness": asdict(track.loudness),
    }


@dg.asset(
    partitions_def=story_partitions,
    deps=["script"],
    group_name="production",
    kinds={"tts", "ffmpeg"},
    owners=["team:media"],
    check_specs=[
        dg.AssetCheckSpec(
            LOUDNESS_CHECK,
            asset="voiceover",
            blocking=True,
            description="Every part measures -14 LUFS integrated (±1 LU), true peak at most -1 dBTP.",
        ),
        dg.AssetCheckSpec(
            LENGTH_CHECK,
            asset="voiceover",
            blocking=True,
            description="No spoken part runs over the part limit (measured, not estimated).",
        ),
    ],
)
def voiceover(
    context: dg.AssetExecutionContext, media: MediaStoreResource, tts: TTSResource
) -> dg.MaterializeResult:
    """The narration audio of every part, in the configured voice."""
    key = context.partition_key
    store = media.get_store()
    written = load_script(media, key)
    engine = tts.get_engine()
    entries: list[dict[str, Any]] = []
    loudness_issues: list[str] = []
    length_issues: list[str] = []
    with store.stage(key, "voiceover") as folder, tempfile.TemporaryDirectory() as scratch:
        for part in written.parts:
            context.log.info(f"speaking {part.title} of {len(written.parts)} ({part.word_count} words)")
            track = render_voiceover(
                engine, part.spoken_segments(), folder / part_audio_name(part.number), Path(scratch)
            )
            entries.append(_manifest_entry(part.number, track))
            loudness_issues += loudness_problems(part.title, track.loudness)
            length_issues += part_length_problems(part.title, track.duration_s, written.max_part_seconds)
        (folder / MANIFEST).write_text(json.dumps({"voice": tts.voice_label(), "parts": entries}, indent=2))
    rows = [
        [
            f"Part {e['part']}",
            f"{e['duration_s']:.2f} s",
            f"{e['loudness']['integrated_lufs']:.1f} LUFS",
            f"{e['loudness']['true_peak_dbtp']:.1f} dBTP",
        ]
        for e in entries
    ]
    return dg.MaterializeResult(
        metadata={
            "voice": tts.voice_label(),
            "parts": len(entries),
            "total_seconds": round(sum(e["duration_s"] for e in entries), 2),
            "audio": dg.MetadataValue.md(markdown_table(["part", "duration", "loudness", "peak"], rows)),
            "folder": dg.MetadataValue.path(str(store.asset_dir(key, "voiceover"))),
        },
        check_results=[
            gate(
                LOUDNESS_CHECK,
                loudness_issues,
                integrated_lufs=[e["loudness"]["integrated_lufs"] for e in entries],
                true_peak_dbtp=[e["loudness"]["true_peak_dbtp"] for e in entries],
            ),
            gate(
                LENGTH_CHECK,
                length_issues,
                duration_s=[round(e["duration_s"], 2) for e in entries],
                max_part_seconds=written.max_part_seconds,
            ),
        ],
    )
