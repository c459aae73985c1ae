"""`voiceover`: each part's narration spoken and loudness-normalised to -14 LUFS."""

import tempfile
from pathlib import Path

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table
from pellacia_assets.audio.voiceover import render_voiceover
from pellacia_assets.manifests import (
    VOICEOVER_MANIFEST,
    VoiceoverManifest,
    VoiceoverPart,
    load_script,
    part_audio_name,
    write_manifest,
)
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import loudness_problems, part_length_problems
from resources.media_store.resource import MediaStoreResource
from resources.tts.resource import TTSResource

LOUDNESS_CHECK = "voiceover_loudness"
LENGTH_CHECK = "voiceover_part_length"


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
    written = load_script(store, key)
    engine = tts.get_engine()
    parts: list[VoiceoverPart] = []
    loudness_issues: list[str] = []
    length_issues: list[str] = []
    with store.stage(key, "voiceover") as folder, tempfile.TemporaryDirectory() as scratch:
        for part in written.parts:
            context.log.info(f"speaking {part.title} of {len(written.parts)} ({part.word_count} words)")
            name = part_audio_name(part.number)
            track = render_voiceover(engine, part.spoken_segments(), folder / name, Path(scratch))
            parts.append(
                VoiceoverPart(
                    part.number, name, track.duration_s, track.sample_rate, track.segments, track.loudness
                )
            )
            loudness_issues += loudness_problems(part.title, track.loudness)
            length_issues += part_length_problems(part.title, track.duration_s, written.max_part_seconds)
        write_manifest(folder, VOICEOVER_MANIFEST, VoiceoverManifest(tts.voice_label(), tuple(parts)))
    rows = [
        [
            f"Part {p.part}",
            f"{p.duration_s:.2f} s",
            f"{p.loudness.integrated_lufs:.1f} LUFS",
            f"{p.loudness.true_peak_dbtp:.1f} dBTP",
        ]
        for p in parts
    ]
    return dg.MaterializeResult(
        metadata={
            "voice": tts.voice_label(),
            "parts": len(parts),
            "total_seconds": round(sum(p.duration_s for p in parts), 2),
            "audio": dg.MetadataValue.md(markdown_table(["part", "duration", "loudness", "peak"], rows)),
            "folder": dg.MetadataValue.path(str(store.asset_dir(key, "voiceover"))),
        },
        check_results=[
            gate(
                LOUDNESS_CHECK,
                loudness_issues,
                integrated_lufs=[p.loudness.integrated_lufs for p in parts],
                true_peak_dbtp=[p.loudness.true_peak_dbtp for p in parts],
            ),
            gate(
                LENGTH_CHECK,
                length_issues,
                duration_s=[round(p.duration_s, 2) for p in parts],
                max_part_seconds=written.max_part_seconds,
            ),
        ],
    )
