"""`script`: hook, narration and call to action per part, with each platform's title and caption."""

import dagster as dg

from pellacia_assets.assets.gates import gate
from pellacia_assets.delivery import is_delivered
from pellacia_assets.delivery.script import delivered_script, delivered_script_problems
from pellacia_assets.manifests import SCRIPT_FILE, SCRIPT_MARKDOWN, load_story
from pellacia_assets.partitions import story_partitions
from pellacia_assets.quality import script_problems
from pellacia_assets.scripting.errors import ScriptError
from resources.media_store.resource import MediaStoreResource
from resources.script_writer.resource import ScriptWriterResource
from resources.tts.resource import TTSResource

SCRIPT_CHECK = "script_ready"


@dg.asset(
    partitions_def=story_partitions,
    deps=["story"],
    group_name="production",
    kinds={"python"},
    owners=["team:editorial"],
    check_specs=[
        dg.AssetCheckSpec(
            SCRIPT_CHECK,
            asset="script",
            blocking=True,
            description=(
                "The script exists and every part fits the part length at the voice's pace (a delivered "
                "video: one part whose copy fits every platform)."
            ),
        )
    ],
)
def script(
    context: dg.AssetExecutionContext,
    media: MediaStoreResource,
    tts: TTSResource,
    script_writer: ScriptWriterResource,
) -> dg.MaterializeResult:
    """What the narrator says, split into parts of at most ~58 s, and the copy each platform shows; for a
    delivered video, one part whose copy is the delivery's own words."""
    key = context.partition_key
    store = media.get_store()
    story = load_story(store, key)
    delivered = is_delivered(story.source_kind)
    try:
        if delivered:  # a finished video: its own title, description and hashtags, nothing spoken
            context.log.info(f"copy from the {story.source_kind} delivery's title, description and hashtags")
            written = delivered_script(story, script_writer.max_part_seconds)
            words_per_minute = 0.0
        else:
            words_per_minute = tts.words_per_minute()
            context.log.info(
                f"writing with '{script_writer.writer}' at {words_per_minute:.0f} words per minute"
            )
            written = script_writer.write(story, words_per_minute)
    except ScriptError as error:
        raise dg.Failure(description=f"story '{key}': {error}", allow_retries=False) from error
    with store.stage(key, "script") as folder:
        (folder / SCRIPT_FILE).write_text(written.to_json(), encoding="utf-8")
        (folder / SCRIPT_MARKDOWN).write_text(written.to_markdown(), encoding="utf-8")
    problems = delivered_script_problems(written) if delivered else script_problems(written)
    return dg.MaterializeResult(
        metadata={
            "script": dg.MetadataValue.md(written.to_markdown()),
            "parts": len(written.parts),
            "words": sum(part.word_count for part in written.parts),
            "estimated_seconds": [round(part.estimated_seconds, 1) for part in written.parts],
            "words_per_minute": round(words_per_minute, 1),
            "writer": written.writer,
        },
        check_results=[gate(SCRIPT_CHECK, problems)],
    )
