"""`script`: hook, narration and call to action per part, with each platform's title and caption."""

import dagster as dg

from pellacia_assets.assets.gates import gate
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
            description="The script exists and every part fits the part length at the voice's pace.",
        )
    ],
)
def script(
    context: dg.AssetExecutionContext,
    media: MediaStoreResource,
    tts: TTSResource,
    script_writer: ScriptWriterResource,
) -> dg.MaterializeResult:
    """What the narrator says, split into parts of at most ~58 s, and the copy each platform shows."""
    key = context.partition_key
    store = media.get_store()
    story = load_story(store, key)
    words_per_minute = tts.words_per_minute()
    context.log.info(f"writing with '{script_writer.writer}' at {words_per_minute:.0f} words per minute")
    try:
        written = script_writer.write(story, words_per_minute)
    except ScriptError as error:
        raise dg.Failure(description=f"story '{key}': {error}", allow_retries=False) from error
    with store.stage(key, "script") as folder:
        (folder / SCRIPT_FILE).write_text(written.to_json(), encoding="utf-8")
        (folder / SCRIPT_MARKDOWN).write_text(written.to_markdown(), encoding="utf-8")
    problems = script_problems(written)
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
