"""Every knob of the factory, read from the environment in one place.

The embedded defaults (SQLite, a local media folder, bundled offline models) need no variable at all;
docs/configuration.md lists each variable with its default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    home: Path
    models_dir: Path
    cache_dir: Path
    database_url: str
    postgres_url: str | None
    tts_engine: str
    tts_voice: str
    whisper_backend: str
    whisper_model: str
    whisper_threads: int
    script_writer: str
    llm_base_url: str
    llm_model: str
    llm_api_key_set: bool
    max_part_seconds: float
    max_story_words: int
    backgrounds_dir: str | None
    music_path: str | None
    fonts_dir: str | None
    render_preset: str
    render_crf: int
    caption_style: str
    phase05_dir: Path
    retention_hours: float
    keep_published_days: float

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_env("PELLACIA_HOME", ".pellacia")).expanduser().resolve()
        postgres_url = _env_optional("PELLACIA_POSTGRES_URL")
        default_db = postgres_url or f"sqlite:///{home / 'pellacia.db'}"
        return cls(
            home=home,
            models_dir=Path(_env("PELLACIA_MODELS_DIR", str(home / "models"))).expanduser().resolve(),
            cache_dir=Path(_env("PELLACIA_CACHE_DIR", str(home / "cache"))).expanduser().resolve(),
            database_url=_env("PELLACIA_DATABASE_URL", default_db),
            postgres_url=postgres_url,
            tts_engine=_env("PELLACIA_TTS_ENGINE", "hibari"),
            tts_voice=_env("PELLACIA_TTS_VOICE", ""),
            whisper_backend=_env("PELLACIA_WHISPER_BACKEND", "faster-whisper"),
            whisper_model=_env("PELLACIA_WHISPER_MODEL", "base"),
            whisper_threads=int(_env("PELLACIA_WHISPER_THREADS", "2")),
            script_writer=_env("PELLACIA_SCRIPT_WRITER", "template"),
            llm_base_url=_env("PELLACIA_LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
            llm_model=_env("PELLACIA_LLM_MODEL", "llama3.2"),
            llm_api_key_set=_env_optional("PELLACIA_LLM_API_KEY") is not None,
            max_part_seconds=float(_env("PELLACIA_MAX_PART_SECONDS", "58")),
            max_story_words=int(_env("PELLACIA_MAX_STORY_WORDS", "2500")),
            backgrounds_dir=_env_optional("PELLACIA_BACKGROUNDS_DIR"),
            music_path=_env_optional("PELLACIA_MUSIC"),
            fonts_dir=_env_optional("PELLACIA_FONTS_DIR"),
            render_preset=_env("PELLACIA_RENDER_PRESET", "veryfast"),
            caption_style=_env("PELLACIA_CAPTION_STYLE", "bold"),
            render_crf=int(_env("PELLACIA_RENDER_CRF", "23")),
            phase05_dir=Path(_env("PELLACIA_PHASE05_DIR", str(home / "phase05"))).expanduser().resolve(),
            retention_hours=float(_env("PELLACIA_RETENTION_HOURS", "24")),
            keep_published_days=float(_env("PELLACIA_KEEP_PUBLISHED_DAYS", "30")),
        )
