"""`captions`: the script's words timed by Whisper against the voiceover, as a highlighted ASS file."""

import json
from dataclasses import asdict

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table
from pellacia_assets.captions.alignment import align
from pellacia_assets.captions.ass import build_ass
from pellacia_assets.captions.errors import CaptionError
from pellacia_assets.manifests import (
    CAPTIONS_MANIFEST,
    CaptionPart,
    CaptionsManifest,
    load_script,
    load_story,
    load_voiceover,
    part_subtitles_name,
    part_words_name,
    write_manifest,
)
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import MAX_CAPTION_WER, alignment_problems
from resources.media_store.resource import MediaStoreResource
from resources.renderer.resource import RendererResource
from resources.transcriber.resource import TranscriberResource

ALIGNMENT_CHECK = "caption_alignment"


@dg.asset(
    partitions_def=story_partitions,
    deps=["story", "script", "voiceover"],
    group_name="production",
    kinds={"whisper"},
    owners=["team:media"],
    check_specs=[
        dg.AssetCheckSpec(
            ALIGNMENT_CHECK,
            asset="captions",
            blocking=True,
            description=(
                f"Whisper's transcript of the voiceover matches the script (WER at most "
                f"{MAX_CAPTION_WER:.0%}); word timing drift is reported."
            ),
        )
    ],
)
def captions(
    context: dg.AssetExecutionContext,
    media: MediaStoreResource,
    transcriber: TranscriberResource,
    renderer: RendererResource,
) -> dg.MaterializeResult:
    """Word-level captions in the script's own spelling, a few words a page, the spoken word popping."""
    key = context.partition_key
    store = media.get_store()
    try:
        style = renderer.captions()
    except CaptionError as error:
        raise dg.Failure(description=f"PELLACIA_CAPTION_STYLE: {error}", allow_retries=False) from error
    written = load_script(store, key)
    language = load_story(store, key).language
    audio = load_voiceover(store, key)
    whisper = transcriber.get_transcriber()
    parts: list[CaptionPart] = []
    problems: list[str] = []
    with store.stage(key, "captions") as folder:
        for part in written.parts:
            spoken = audio.part(part.number)
            wav = store.require(key, "voiceover", spoken.file)
            context.log.info(f"timing {part.title} of {len(written.parts)} with Whisper")
            transcript = whisper.transcribe(wav, language=language)
            alignment = align(part.spoken_text, transcript)
            subtitles, words = part_subtitles_name(part.number), part_words_name(part.number)
            (folder / subtitles).write_text(
                build_ass(alignment.words, style=style, not_before_s=spoken.hook_end_s), encoding="utf-8"
            )
            (folder / words).write_text(json.dumps([asdict(word) for word in alignment.words], indent=1))
            problems += alignment_problems(part.title, alignment)
            parts.append(
                CaptionPart(
                    part=part.number,
                    file=subtitles,
                    words_file=words,
                    title_end_s=spoken.hook_end_s,
                    wer=alignment.wer,
                    matched_ratio=alignment.matched_ratio,
                    max_drift_s=alignment.max_drift_s,
                    mean_drift_s=alignment.mean_drift_s,
                    transcript=transcript.text,
                )
            )
        write_manifest(folder, CAPTIONS_MANIFEST, CaptionsManifest(tuple(parts)))
    rows = [
        [f"Part {p.part}", f"{p.wer:.1%}", f"{p.matched_ratio:.0%}", f"{p.max_drift_s:.2f} s"] for p in parts
    ]
    table = markdown_table(["part", "WER", "words matched", "max drift"], rows)
    return dg.MaterializeResult(
        metadata={
            "alignment": dg.MetadataValue.md(table),
            "word_error_rate": max(p.wer for p in parts),
            "max_drift_s": max(p.max_drift_s for p in parts),
            "folder": dg.MetadataValue.path(str(store.asset_dir(key, "captions"))),
        },
        check_results=[
            gate(
                ALIGNMENT_CHECK,
                problems,
                word_error_rate=[round(p.wer, 4) for p in parts],
                max_drift_s=[round(p.max_drift_s, 3) for p in parts],
                mean_drift_s=[round(p.mean_drift_s, 3) for p in parts],
            )
        ],
    )
