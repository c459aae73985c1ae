"""The code location `pellacia`: assets, checks, jobs, sensors and schedules, resources from settings."""

from __future__ import annotations

from typing import Any

import dagster as dg

import schedules
import sensors
from pellacia_assets.assets.analytics import post_metrics
from pellacia_assets.assets.captions import captions
from pellacia_assets.assets.posts import POST_ASSETS
from pellacia_assets.assets.script import script
from pellacia_assets.assets.story import story
from pellacia_assets.assets.video import video
from pellacia_assets.assets.voiceover import voiceover
from pellacia_assets.jobs import delivery_job, production_job, publishing_job
from pellacia_assets.observability.dagster_logging import dagster_loggers
from pellacia_assets.settings import Settings
from resources.alerts.resource import AlertsResource
from resources.database.resource import DatabaseResource
from resources.llm.resource import LLMResource
from resources.media_store.resource import MediaStoreResource
from resources.platforms import PLATFORMS
from resources.platforms.resource import platform_resource
from resources.renderer.resource import RendererResource
from resources.script_writer.resource import ScriptWriterResource
from resources.transcriber.resource import TranscriberResource
from resources.tts.resource import TTSResource


def build_resources(settings: Settings) -> dict[str, Any]:
    """Resources configured from the environment, so the UI shows the values a run will use."""
    database = DatabaseResource(url=settings.database_url)
    return {
        "database": database,
        "alerts": AlertsResource.from_env(),
        "media": MediaStoreResource(root=str(settings.media_dir)),
        "tts": TTSResource(
            engine=settings.tts_engine, voice=settings.tts_voice, cache_dir=str(settings.cache_dir)
        ),
        "transcriber": TranscriberResource(
            backend=settings.whisper_backend,
            model=settings.whisper_model,
            models_dir=str(settings.models_dir),
            threads=settings.whisper_threads,
        ),
        "script_writer": ScriptWriterResource(
            writer=settings.script_writer,
            max_part_seconds=settings.max_part_seconds,
            max_story_words=settings.max_story_words,
            llm=LLMResource(
                base_url=settings.llm_base_url,
                model=settings.llm_model,
                api_key=dg.EnvVar("PELLACIA_LLM_API_KEY") if settings.llm_api_key_set else None,
            ),
        ),
        "renderer": RendererResource(
            backgrounds_dir=settings.backgrounds_dir,
            music_path=settings.music_path,
            fonts_dir=settings.fonts_dir,
            preset=settings.render_preset,
            crf=settings.render_crf,
            caption_style=settings.caption_style,
        ),
        **{platform: platform_resource(platform, database, settings.home) for platform in PLATFORMS},
    }


@dg.definitions
def defs() -> dg.Definitions:
    settings = Settings.from_env()
    return dg.Definitions.merge(
        dg.Definitions(
            assets=[story, script, voiceover, captions, video, *POST_ASSETS, post_metrics],
            jobs=[production_job, publishing_job, delivery_job],
            resources=build_resources(settings),
            loggers=dagster_loggers(),
        ),
        sensors.defs(),
        schedules.defs(),
    )
