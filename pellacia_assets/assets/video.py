"""`video`: every part rendered to a publish-ready 1080x1920 MP4, plus its poster frame."""

import json
from pathlib import Path
from typing import Any

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table, thumbnail_markdown
from pellacia_assets.assets.script import load_script
from pellacia_assets.assets.voiceover import load_voiceover_manifest
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import VideoSpec, video_problems
from pellacia_assets.rendering.compose import render
from pellacia_assets.rendering.poster import extract_poster
from resources.media_store.resource import MediaStoreResource
from resources.renderer.resource import RendererResource

VIDEO_CHECK = "video_format"
MANIFEST = "video.json"


def part_video_name(number: int) -> str:
    return f"part-{number}.mp4"


@dg.asset(
    partitions_def=story_partitions,
    deps=["voiceover", "captions"],
    group_name="production",
    kinds={"ffmpeg"},
    owners=["team:media"],
    check_specs=[
        dg.AssetCheckSpec(
            VIDEO_CHECK,
            asset="video",
            blocking=True,
            description="1080x1920, 30 fps, H.264 yuv420p, AAC 48 kHz, faststart, as long as its voiceover.",
        )
    ],
)
def video(
    context: dg.AssetExecutionContext, media: MediaStoreResource, renderer: RendererResource
) -> dg.MaterializeResult:
    """The finished shorts of the story, one per part, with captions burned in."""
    key = context.partition_key
    store = media.get_store()
    written = load_script(media, key)
    audio_parts = {entry["part"]: entry for entry in load_voiceover_manifest(media, key)}
    caption_parts = {
        entry["part"]: entry
        for entry in json.loads(store.require(key, "captions", "captions.json").read_text())["parts"]
    }
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    posters: list[Path] = []
    with store.stage(key, "video") as folder:
        for part in written.parts:
            audio = audio_parts[part.number]
            output = folder / part_video_name(part.number)
            spec = renderer.spec_for(
                key,
                voiceover=store.require(key, "voiceover", audio["file"]),
                subtitles=store.require(key, "captions", caption_parts[part.number]["file"]),
                duration_s=audio["duration_s"],
                output=output,
                title_card_end_s=caption_parts[part.number]["title_end_s"],
            )
            label = f"{part.title} of {len(written.parts)}"

            def report(fraction: float, label: str = label) -> None:
                context.log.info(f"rendering {label}: {fraction:.0%}")

            result = render(spec, progress=report)
            poster = extract_poster(
                output, folder / f"part-{part.number}.png", at_s=min(1.0, spec.duration_s / 2)
            )
            posters.append(poster)
            problems += video_problems(part.title, result.info, audio["duration_s"], VideoSpec())
            entries.append(
                {
                    "part": part.number,
                    "file": part_video_name(part.number),
                    "poster": poster.name,
                    "duration_s": result.info.duration_s,
                    "size_bytes": result.info.size_bytes,
                    "render_s": result.wall_s,
                }
            )
        (folder / MANIFEST).write_text(json.dumps({"parts": entries}, indent=2))
        previews = " ".join(thumbnail_markdown(poster) for poster in posters)
    final_dir = store.asset_dir(key, "video")
    rows = [
        [
            f"Part {e['part']}",
            f"{e['duration_s']:.2f} s",
            f"{e['size_bytes'] / 1e6:.1f} MB",
            f"{e['render_s']:.1f} s",
        ]
        for e in entries
    ]
    return dg.MaterializeResult(
        metadata={
            "poster_frames": dg.MetadataValue.md(previews),
            "videos": dg.MetadataValue.md(markdown_table(["part", "duration", "size", "render time"], rows)),
            "parts": len(entries),
            "total_seconds": round(sum(e["duration_s"] for e in entries), 2),
            "total_bytes": sum(e["size_bytes"] for e in entries),
            "folder": dg.MetadataValue.path(str(final_dir)),
            "first_video": dg.MetadataValue.path(str(final_dir / part_video_name(1))),
        },
        check_results=[gate(VIDEO_CHECK, problems)],
    )
