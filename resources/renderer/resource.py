"""Render settings as a Dagster resource: where backgrounds, music and fonts come from, and encoder knobs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pellacia_assets.captions.styles import CaptionStyle, caption_style
from pellacia_assets.rendering.background import Background, pick_background
from pellacia_assets.rendering.compose import Overlay, RenderSpec
from pellacia_assets.rendering.fonts import find_fonts_dir
from pellacia_assets.rendering.selection import pick_music


class RendererResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Turns a story key and its voiceover/captions into a RenderSpec, with per-story fixed choices."""

    backgrounds_dir: str | None = None
    music_path: str | None = None
    fonts_dir: str | None = None
    preset: str = "veryfast"
    crf: int = 23
    caption_style: str = "bold"  # PELLACIA_CAPTION_STYLE: a preset of pellacia_assets/captions/styles.yaml
    ffmpeg_threads: int = 0
    width: int = 1080
    height: int = 1920

    def background_for(self, story_key: str) -> Background:
        """A clip from `backgrounds_dir` fixed per story, or a generated moving gradient."""
        return pick_background(story_key, Path(self.backgrounds_dir) if self.backgrounds_dir else None)

    def music_for(self, story_key: str) -> Path | None:
        """`music_path` itself, a track from that folder fixed per story, or None for voice only."""
        return pick_music(story_key, Path(self.music_path) if self.music_path else None)

    def captions(self) -> CaptionStyle:
        """The caption preset (font, size, colours, position); a name the data file lacks is refused."""
        return caption_style(self.caption_style)

    def fonts(self) -> Path:
        """The configured fonts folder, or the one holding DejaVu Sans."""
        return Path(self.fonts_dir) if self.fonts_dir else find_fonts_dir()

    def spec_for(
        self,
        story_key: str,
        *,
        voiceover: Path,
        subtitles: Path,
        duration_s: float,
        output: Path,
        title_card_end_s: float,
        overlays: tuple[Overlay, ...] = (),
    ) -> RenderSpec:
        return RenderSpec(
            voiceover=voiceover,
            subtitles=subtitles,
            duration_s=duration_s,
            output=output,
            background=self.background_for(story_key),
            title_card_end_s=title_card_end_s,
            music=self.music_for(story_key),
            fonts_dir=self.fonts(),
            preset=self.preset,
            crf=self.crf,
            threads=self.ffmpeg_threads,
            width=self.width,
            height=self.height,
            overlays=overlays,
        )
