"""`video`: every part rendered to a publish-ready 1080x1920 MP4, plus its poster frame; a delivered video
(phase-05 drop, `schedule`) checked against its platforms and normalised only where one of them needs it.

When the blocking check passes the story is `produced` and its posts go into the posting queue, which
is what the dispatcher publishes from.
"""

import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table, thumbnail_markdown
from pellacia_assets.captions.layout import layout_problems
from pellacia_assets.delivery import is_delivered
from pellacia_assets.delivery.normalise import (
    delivery_problems,
    normalise_video,
    place_video,
    plan_conversion,
    unfixable_problems,
)
from pellacia_assets.manifests import (
    VIDEO_MANIFEST,
    VideoManifest,
    VideoPart,
    load_captions,
    load_script,
    load_story,
    load_voiceover,
    part_poster_name,
    part_sheet_name,
    part_thumbnail_name,
    part_video_name,
    write_manifest,
)
from pellacia_assets.partitions import story_partitions
from pellacia_assets.posting.policy import PolicyError, PostingPolicy
from pellacia_assets.posting.producers import queue_story
from pellacia_assets.quality import VideoSpec, video_problems
from pellacia_assets.rendering.background import Background, ClipBackground
from pellacia_assets.rendering.cards import youtube_thumbnail
from pellacia_assets.rendering.compose import render
from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.finishing import part_cards, poster_time
from pellacia_assets.rendering.poster import extract_poster
from pellacia_assets.rendering.probe import probe
from pellacia_assets.rendering.sheet import contact_sheet
from pellacia_assets.rendering.verify import is_iso_bmff, verify_media
from pellacia_assets.rendering.watermark import brand_logo, watermark
from pellacia_assets.stories.linked import is_link, source_clip
from pellacia_assets.stories.loading import SourceRecord
from resources.database.resource import DatabaseResource
from resources.database.stories import load_source, set_status
from resources.media_store.resource import MediaStoreResource
from resources.media_store.store import MediaStore
from resources.renderer.resource import RendererResource

VIDEO_CHECK = "video_format"
LAYOUT_CHECK = "video_layout"
SHEET_WIDTH = 960  # the contact sheet as the asset's page shows it

# What producing the parts gave: the parts, their poster frames, the format check's problems, extra
# metadata, and the layout check's problems.
Produced = tuple[list[VideoPart], list[Path], list[str], dict[str, Any], list[str]]


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
            description=(
                "Rendered: 1080x1920, 30 fps, H.264 yuv420p, AAC 48 kHz, faststart, as long as its "
                "voiceover. Delivered: within the limits of every platform it is posted on."
            ),
        ),
        dg.AssetCheckSpec(
            LAYOUT_CHECK,
            asset="video",
            description=(
                "Rendered: every caption page inside the platforms' safe zone (not the top 250 px, the "
                "bottom 480 px or the right 120 px), at least 90 px, 1-4 words on at most 2 lines. It warns "
                "without blocking: a single word too long for the line is drawn smaller on purpose."
            ),
        ),
    ],
)
def video(
    context: dg.AssetExecutionContext,
    media: MediaStoreResource,
    renderer: RendererResource,
    database: DatabaseResource,
) -> dg.MaterializeResult:
    """The finished shorts of the story, one per part, with captions burned in; or the delivered video."""
    key = context.partition_key
    store = media.get_store()
    try:
        policy = PostingPolicy.from_env()
    except PolicyError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    with database.session() as session:
        record = load_source(session, key)
    if record is not None and is_delivered(record.source_kind):
        parts, posters, problems, extra, layout = _delivered(context, store, renderer, record, policy)
    else:
        try:
            logo = brand_logo()
        except MediaError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        # A video link's short plays over the linked clip itself; any other over the story's own background.
        clip = source_clip(store, key) if record is not None and is_link(record.source_kind) else None
        background = ClipBackground.for_story(key, clip) if clip is not None else renderer.background_for(key)
        parts, posters, problems, extra, layout = _rendered(context, store, renderer, background, logo)
    if not problems:
        with database.session() as session:
            set_status(session, key, "produced")
            queued = queue_story(session, key, len(parts), policy)
            extra["queued_posts"] = len(queued)
        context.log.info(f"produced; {len(queued)} post(s) in the posting queue")
    final_dir = store.asset_dir(key, "video")
    rows = [
        [f"Part {p.part}", f"{p.duration_s:.2f} s", f"{p.size_bytes / 1e6:.1f} MB", f"{p.render_s:.1f} s"]
        for p in parts
    ]
    return dg.MaterializeResult(
        metadata={
            "poster_frames": dg.MetadataValue.md(" ".join(thumbnail_markdown(p) for p in posters)),
            "videos": dg.MetadataValue.md(markdown_table(["part", "duration", "size", "render time"], rows)),
            "parts": len(parts),
            "total_seconds": round(sum(p.duration_s for p in parts), 2),
            "total_bytes": sum(p.size_bytes for p in parts),
            "folder": dg.MetadataValue.path(str(final_dir)),
            "first_video": dg.MetadataValue.path(str(final_dir / parts[0].file)),
            **extra,
        },
        check_results=[
            gate(VIDEO_CHECK, problems),
            gate(LAYOUT_CHECK, layout, severity=dg.AssetCheckSeverity.WARN),
        ],
    )


def _rendered(
    context: dg.AssetExecutionContext,
    store: MediaStore,
    renderer: RendererResource,
    background: Background,
    logo: Path | None,
) -> Produced:
    """Render every part from its voiceover, captions and cards over `background` (with the brand's
    `logo` as a watermark, when there is one), checked against the rendering spec and the layout rules
    (`video_layout`); each part gets its poster (the hook card's frame), its YouTube thumbnail and its
    contact sheet."""
    key = context.partition_key
    written = load_script(store, key)
    story = load_story(store, key)
    audio = load_voiceover(store, key)
    subtitles = load_captions(store, key)
    style = renderer.captions()
    parts: list[VideoPart] = []
    problems: list[str] = []
    layout: list[str] = []
    posters: list[Path] = []
    with store.stage(key, "video") as folder:
        for part in written.parts:
            spoken, captioned = audio.part(part.number), subtitles.part(part.number)
            output = folder / part_video_name(part.number)
            ass_file = store.require(key, "captions", captioned.file)
            cards = part_cards(
                folder,
                part=part.number,
                parts=len(written.parts),
                title=story.title,
                byline=story.byline,
                call_to_action=part.call_to_action,
                duration_s=spoken.duration_s,
                hook_end_s=captioned.title_end_s,
                width=renderer.width,
                height=renderer.height,
            )
            overlays = cards.overlays
            if logo is not None:  # under the cards, so no card has the logo over its text
                size = {"width": renderer.width, "height": renderer.height}
                overlays = (watermark(logo, folder, duration_s=spoken.duration_s, **size), *overlays)
            spec = renderer.spec_for(
                key,
                voiceover=store.require(key, "voiceover", spoken.file),
                subtitles=ass_file,
                duration_s=spoken.duration_s,
                output=output,
                title_card_end_s=captioned.title_end_s,
                overlays=overlays,
            )
            spec = dataclasses.replace(spec, background=background)
            label = f"{part.title} of {len(written.parts)}"

            def report(fraction: float, label: str = label) -> None:
                context.log.info(f"rendering {label}: {fraction:.0%}")

            result = render(spec, progress=report)
            poster = extract_poster(
                output,
                folder / part_poster_name(part.number),
                at_s=poster_time(spec.duration_s, captioned.title_end_s),
            )
            thumbnail = youtube_thumbnail(
                cards.hook or poster, poster, folder / part_thumbnail_name(part.number)
            )
            sheet = contact_sheet(output, folder / part_sheet_name(part.number))
            posters.append(poster)
            problems += video_problems(part.title, result.info, spoken.duration_s, VideoSpec())
            play_res = (renderer.width, renderer.height)
            layout += [
                f"{part.title}: {problem}"
                for problem in layout_problems(ass_file.read_text(encoding="utf-8"), style, play_res)
            ]
            parts.append(
                VideoPart(
                    part=part.number,
                    file=output.name,
                    poster=poster.name,
                    duration_s=result.info.duration_s,
                    size_bytes=result.info.size_bytes,
                    render_s=result.wall_s,
                    thumbnail=thumbnail.name,
                    sheet=sheet.name,
                )
            )
        write_manifest(folder, VIDEO_MANIFEST, VideoManifest(tuple(parts)))
    final = store.asset_dir(key, "video")
    sheets = " ".join(thumbnail_markdown(final / p.sheet, width=SHEET_WIDTH) for p in parts)
    extra: dict[str, Any] = {
        "contact_sheets": dg.MetadataValue.md(sheets),
        "caption_style": style.name,
        "background": _describe(background),
    }
    if logo is not None:
        extra["watermark"] = dg.MetadataValue.path(str(logo))
    return parts, [final / poster.name for poster in posters], problems, extra, layout


def _delivered(
    context: dg.AssetExecutionContext,
    store: MediaStore,
    renderer: RendererResource,
    record: SourceRecord,
    policy: PostingPolicy,
) -> Produced:
    """The delivered file, verified whole, as part 1: linked as it is where every platform it goes to
    takes it, otherwise normalised in one ffmpeg pass; checked against those platforms' limits."""
    key = context.partition_key
    source = Path(record.source_ref)
    try:
        info = verify_media(source)
    except MediaError as error:
        raise dg.Failure(
            description=f"story '{key}': the delivered video {source} cannot be used: {error}",
            allow_retries=False,
        ) from error
    if not info.has_video:
        raise dg.Failure(description=f"story '{key}': {source} has no video stream", allow_retries=False)
    platforms = list(record.platforms or policy.platforms)
    iso_bmff = is_iso_bmff(source)
    conversion = plan_conversion(info, platforms, iso_bmff=iso_bmff)
    unfixable = unfixable_problems(info, platforms, iso_bmff=iso_bmff)
    with store.stage(key, "video") as folder:
        output = folder / part_video_name(1)
        if conversion is None or unfixable:
            place_video(source, output)
            seconds, how = 0.0, "taken as delivered"
        else:
            context.log.info(f"normalising {source.name}: {'; '.join(conversion.reasons)}")
            seconds = normalise_video(source, output, conversion, preset=renderer.preset, crf=renderer.crf)
            how = "normalised: " + "; ".join(conversion.reasons)
        final = probe(output)
        poster = extract_poster(output, folder / part_poster_name(1), at_s=min(1.0, final.duration_s / 2))
        part = VideoPart(1, output.name, poster.name, final.duration_s, final.size_bytes, seconds)
        write_manifest(folder, VIDEO_MANIFEST, VideoManifest((part,)))
    context.log.info(f"{source.name}: {how}")
    extra = {"delivered_from": dg.MetadataValue.path(str(source)), "platforms": platforms, "delivery": how}
    final_poster = store.asset_dir(key, "video") / poster.name
    return [part], [final_poster], delivery_problems(final, platforms), extra, []


def _describe(background: Background) -> str:
    if isinstance(background, ClipBackground):
        return f"clip {background.path.name} from {background.offset_s:.1f} s"
    return f"{background.style} in {', '.join(background.palette)}"
