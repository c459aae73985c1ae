"""`youtube_post` ... `linkedin_post`: one asset per platform, so each retries, backfills and throttles alone.

Each runs in a pool of its own (`<platform>_api`) and publishes through the publish ledger, recording
post ids, URLs, attempts and timings. Launched by the dispatcher (run tag `pellacia/queue_id`) it
publishes the one part that queue row names and records the outcome on the row
(`pellacia_assets/posting/publish.py`); launched by hand, every part of the story in order.
"""

from pathlib import Path

import dagster as dg

from pellacia_assets.assets.previews import markdown_table
from pellacia_assets.manifests import load_script, load_video
from pellacia_assets.partitions import story_partitions
from pellacia_assets.posting.dispatch import QUEUE_ID_TAG
from pellacia_assets.posting.publish import QueuedPostError, publish_queued
from pellacia_assets.publishing import PartPublication, publish_story
from resources.alerts.resource import AlertsResource
from resources.database.ledger import DuplicateVideoError
from resources.fallback.order import FallbackConfigError
from resources.media_store.resource import MediaStoreResource
from resources.platforms import PLATFORMS
from resources.platforms.errors import PlatformError
from resources.platforms.resource import PlatformResource

__all__ = ["POST_ASSETS", "post_asset_name"]


def post_asset_name(platform: str) -> str:
    return f"{platform}_post"


def _post_asset(platform: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=post_asset_name(platform),
        partitions_def=story_partitions,
        deps=["script", "video"],
        group_name="publishing",
        kinds={"api"},
        owners=["team:distribution"],
        pool=f"{platform}_api",
        required_resource_keys={"media", "alerts", platform},
        retry_policy=dg.RetryPolicy(
            max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
        ),
        description=f"The story's parts published to {platform}, in order, exactly once (one queued part "
        "when the dispatcher launched it).",
    )
    def post(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        key = context.partition_key
        media: MediaStoreResource = context.resources.media
        resource: PlatformResource = getattr(context.resources, platform)
        store = media.get_store()
        written = load_script(store, key)
        videos = load_video(store, key)
        try:
            client = resource.get_publisher(context.log.info)
        except FallbackConfigError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        factory = resource.database.session_factory()

        def video_for_part(number: int) -> Path:
            return store.require(key, "video", videos.part(number).file)

        queue_tag = context.run.tags.get(QUEUE_ID_TAG)
        published: list[PartPublication]
        try:
            if queue_tag is None:
                published = publish_story(client, factory, written, video_for_part, context.log.info)
            else:
                alerts: AlertsResource = context.resources.alerts
                published = [
                    publish_queued(
                        client,
                        factory,
                        written,
                        int(queue_tag),
                        video_for_part,
                        alerts.get_alerter(),
                        context.run.run_id,
                        context.log.info,
                    )
                ]
        except QueuedPostError as error:
            raise dg.Failure(description=str(error), allow_retries=error.retryable) from error
        except DuplicateVideoError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        except PlatformError as error:
            raise dg.Failure(description=str(error), allow_retries=error.retryable) from error
        rows = [
            [f"Part {p.part}", p.post_id, p.url, p.via, str(p.attempts), f"{p.seconds:.1f} s"]
            + (["already published"] if p.already_published else [""])
            for p in published
        ]
        return dg.MaterializeResult(
            metadata={
                "posts": dg.MetadataValue.md(
                    markdown_table(["part", "post id", "url", "via", "attempts", "time", ""], rows)
                ),
                "post_ids": [p.post_id for p in published],
                "first_url": dg.MetadataValue.url(published[0].url),
                "attempts": max(p.attempts for p in published),
                "publish_seconds": round(sum(p.seconds for p in published), 2),
                "account": client.account,
                "via": ", ".join(dict.fromkeys(p.via for p in published)),
                **({"queue_id": int(queue_tag)} if queue_tag is not None else {}),
            }
        )

    return post


POST_ASSETS = [_post_asset(platform) for platform in PLATFORMS]
