"""`story`: the normalised story, read from the source record a source (CLI, sensor) saved."""

import dagster as dg

from pellacia_assets.delivery import is_delivered
from pellacia_assets.manifests import STORY_FILE
from pellacia_assets.partitions import story_partitions
from pellacia_assets.sources.base import content_hash
from pellacia_assets.stories.linked import is_link, transcribed
from pellacia_assets.stories.loading import StoryError
from pellacia_assets.stories.normalise import normalise, normalise_delivered
from resources.database.intake import record_text
from resources.database.resource import DatabaseResource
from resources.database.stories import approval_of, approval_refusal, load_source, set_status
from resources.media_store.resource import MediaStoreResource
from resources.script_writer.resource import ScriptWriterResource
from resources.transcriber.resource import TranscriberResource
from resources.tts.resource import TTSResource


@dg.asset(
    partitions_def=story_partitions,
    group_name="sources",
    kinds={"python", "sqlite"},
    owners=["team:editorial"],
)
def story(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    media: MediaStoreResource,
    tts: TTSResource,
    script_writer: ScriptWriterResource,
    transcriber: TranscriberResource,
) -> dg.MaterializeResult:
    """The story to tell: title, plain body, language and priority, checked to be speakable (a delivered
    video's story only needs a title: its body is the description, and nothing is spoken)."""
    key = context.partition_key
    with database.session() as session:
        record = load_source(session, key)
        approval = approval_of(session, key)
    if record is None:
        raise dg.Failure(
            description=f"story '{key}' has no source record; add it with `pellacia-dist story add FILE`",
            allow_retries=False,
        )
    if approval != "approved":
        raise dg.Failure(description=approval_refusal(key, approval), allow_retries=False)
    try:
        if is_delivered(record.source_kind):  # a finished video: nothing to speak, no voice to load
            normalised = normalise_delivered(record)
        else:
            if is_link(record.source_kind):  # a video link: its story is what the video says
                context.log.info(f"downloading and transcribing {record.url or record.source_ref}")
                record = transcribed(record, media.get_store(), transcriber.get_transcriber())
                with database.session() as session:
                    same = record_text(session, key, record.body, content_hash(record.body))
                if same is not None:
                    raise StoryError(
                        f"story '{key}': its video says what story '{same}' says; not made twice"
                    )
            normalised = normalise(
                record,
                max_words=script_writer.max_story_words,
                speakable=tts.languages(),
                voice_name=tts.voice_label(),
            )
    except StoryError as error:
        with database.session() as session:
            set_status(session, key, "rejected", str(error))
        raise dg.Failure(description=str(error), allow_retries=False) from error
    with media.get_store().stage(key, "story") as folder:
        (folder / STORY_FILE).write_text(normalised.to_json(), encoding="utf-8")
    with database.session() as session:
        set_status(session, key, "story")
    return dg.MaterializeResult(
        metadata={
            "title": normalised.title,
            "words": normalised.word_count,
            "language": normalised.language,
            "priority": normalised.priority,
            "source": f"{record.source_kind}: {record.source_ref}",
            "body": dg.MetadataValue.md(normalised.body),
        }
    )
