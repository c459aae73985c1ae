"""`video`: every part rendered to a publish-ready 1080x1920 MP4, plus its poster frame."""

from pathlib import Path

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table, thumbnail_markdown
from pellacia_assets.manifests import (
    VIDEO_MANIFEST,
    VideoManifest,
    VideoPart,
    load_captions,
    load_script,
    load_voiceover,
    part_poster_name,
    part_video_name,
    write_manifest,
)
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import VideoSpec, video_problems
from pellacia_assets.rendering.compose import render
from pellacia_assets.rendering.poster import extract_poster
from resources.media_store.resource import MediaStoreResource
from resources.renderer.resource import RendererResource

VIDEO_CHECK = "video_format"


@dg.asset(
    partitions_def=story_partitions,
    deps=["script", "voiceover", "captions"],
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
    written = load_script(store, key)
    audio = load_voiceover(store, key)
    subtitles = load_captions(store, key)
    parts: list[VideoPart] = []
    problems: list[str] = []
    posters: list[Path] = []
    with store.stage(key, "video") as folder:
        for part in written.parts:
            spoken, captioned = audio.part(part.number), subtitles.part(part.number)
            output = folder / part_video_name(part.number)
            spec = renderer.spec_for(
                key,
                voiceover=store.require(key, "voiceover", spoken.file),
                subtitles=store.require(key, "captions", captioned.file),
                duration_s=spoken.duration_s,
                output=output,
                title_card_end_s=captioned.title_end_s,
            )
            label = f"{part.title} of {len(written.parts)}"

            def report(fraction: float, label: str = label) -> None:
                context.log.info(f"rendering {label}: {fraction:.0%}")

            result = render(spec, progress=report)
            poster = extract_poster(
                output, folder / part_poster_name(part.number), at_s=min(1.0, spec.duration_s / 2)
            )
            posters.append(poster)
            problems += video_problems(part.title, result.info, spoken.duration_s, VideoSpec())
            parts.append(
                VideoPart(
                    part=part.number,
                    file=output.name,
                    poster=poster.name,
                    duration_s=result.info.duration_s,
                    size_bytes=result.info.size_bytes,
                    render_s=result.wall_s,
                )
            )
        write_manifest(folder, VIDEO_MANIFEST, VideoManifest(tuple(parts)))
        previews = " ".join(thumbnail_markdown(poster) for poster in posters)
    final_dir = store.asset_dir(key, "video")
    rows = [
        [f"Part {p.part}", f"{p.duration_s:.2f} s", f"{p.size_bytes / 1e6:.1f} MB", f"{p.render_s:.1f} s"]
        for p in parts
    ]
    return dg.MaterializeResult(
        metadata={
            "poster_frames": dg.MetadataValue.md(previews),
            "videos": dg.MetadataValue.md(markdown_table(["part", "duration", "size", "render time"], rows)),
            "parts": len(parts),
            "total_seconds": round(sum(p.duration_s for p in parts), 2),
            "total_bytes": sum(p.size_bytes for p in parts),
            "folder": dg.MetadataValue.path(str(final_dir)),
            "first_video": dg.MetadataValue.path(str(final_dir / parts[0].file)),
        },
        check_results=[gate(VIDEO_CHECK, problems)],
    )
