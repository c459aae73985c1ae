"""`captions`: the script's words timed by Whisper against the voiceover, as a highlighted ASS file."""

import json
from dataclasses import asdict

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.assets.previews import markdown_table
from pellacia_assets.assets.script import load_script
from pellacia_assets.assets.voiceover import load_voiceover_manifest
from pellacia_assets.captions.alignment import align
from pellacia_assets.captions.ass import build_ass
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import MAX_CAPTION_WER, alignment_problems
from pellacia_assets.stories.model import Story
from resources.media_store.resource import MediaStoreResource
from resources.transcriber.resource import TranscriberResource

ALIGNMENT_CHECK = "caption_alignment"
MANIFEST = "captions.json"


def part_subtitles_name(number: int) -> str:
    return f"part-{number}.ass"


@dg.asset(
    partitions_def=story_partitions,
    deps=["script", "voiceover"],
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
    context: dg.AssetExecutionContext, media: MediaStoreResource, transcriber: TranscriberResource
) -> dg.MaterializeResult:
    """Word-level captions in the script's own spelling, the spoken word highlighted."""
    key = context.partition_key
    store = media.get_store()
    written = load_script(media, key)
    language = Story.from_json(store.require(key, "story", "story.json").read_text()).language
    audio_parts = {entry["part"]: entry for entry in load_voiceover_manifest(media, key)}
    whisper = transcriber.get_transcriber()
    entries, problems = [], []
    with store.stage(key, "captions") as folder:
        for part in written.parts:
            audio = audio_parts[part.number]
            wav = store.require(key, "voiceover", audio["file"])
            context.log.info(f"timing {part.title} of {len(written.parts)} with Whisper")
            transcript = whisper.transcribe(wav, language=language)
            alignment = align(part.spoken_text, transcript)
            hook_end = audio["segments"][0]["end_s"]
            (folder / part_subtitles_name(part.number)).write_text(
                build_ass(alignment.words, title=part.hook, title_end_s=hook_end), encoding="utf-8"
            )
            (folder / f"part-{part.number}.words.json").write_text(
                json.dumps([asdict(word) for word in alignment.words], indent=1)
            )
            problems += alignment_problems(part.title, alignment)
            entries.append(
                {
                    "part": part.number,
                    "file": part_subtitles_name(part.number),
                    "title_end_s": hook_end,
                    "wer": alignment.wer,
                    "matched_ratio": alignment.matched_ratio,
                    "max_drift_s": alignment.max_drift_s,
                    "mean_drift_s": alignment.mean_drift_s,
                    "transcript": transcript.text,
                }
            )
        (folder / MANIFEST).write_text(json.dumps({"parts": entries}, indent=2))
    rows = [
        [f"Part {e['part']}", f"{e['wer']:.1%}", f"{e['matched_ratio']:.0%}", f"{e['max_drift_s']:.2f} s"]
        for e in entries
    ]
    table = markdown_table(["part", "WER", "words matched", "max drift"], rows)
    return dg.MaterializeResult(
        metadata={
            "alignment": dg.MetadataValue.md(table),
            "word_error_rate": max(e["wer"] for e in entries),
            "max_drift_s": max(e["max_drift_s"] for e in entries),
            "folder": dg.MetadataValue.path(str(store.asset_dir(key, "captions"))),
        },
        check_results=[
            gate(
                ALIGNMENT_CHECK,
                problems,
                word_error_rate=[round(e["wer"], 4) for e in entries],
                max_drift_s=[round(e["max_drift_s"], 3) for e in entries],
                mean_drift_s=[round(e["mean_drift_s"], 3) for e in entries],
            )
        ],
    )
