from __future__ import annotations

from pathlib import Path

from pellacia_assets.rendering.background import ClipBackground, GeneratedBackground
from resources.renderer.resource import RendererResource


def test_defaults_give_a_generated_background_no_music_and_dejavu() -> None:
    renderer = RendererResource()
    assert renderer.background_for("story-1") == GeneratedBackground.for_story("story-1")
    assert renderer.music_for("story-1") is None
    assert (renderer.fonts() / "DejaVuSans.ttf").is_file()


def test_folders_give_fixed_per_story_picks(tmp_path: Path) -> None:
    clips, music = tmp_path / "clips", tmp_path / "music"
    clips.mkdir()
    music.mkdir()
    (clips / "rain.mp4").write_bytes(b"")
    (music / "calm.mp3").write_bytes(b"")
    renderer = RendererResource(backgrounds_dir=str(clips), music_path=str(music), fonts_dir=str(tmp_path))
    assert renderer.background_for("story-1") == ClipBackground(clips / "rain.mp4")
    assert renderer.music_for("story-1") == music / "calm.mp3"
    assert renderer.fonts() == tmp_path


def test_spec_carries_the_story_choices_and_encoder_settings(tmp_path: Path) -> None:
    track = tmp_path / "song.mp3"
    track.write_bytes(b"")
    renderer = RendererResource(music_path=str(track), preset="fast", crf=20, ffmpeg_threads=2)
    spec = renderer.spec_for(
        "story-9",
        voiceover=tmp_path / "voice.wav",
        subtitles=tmp_path / "captions.ass",
        duration_s=31.5,
        output=tmp_path / "short.mp4",
        title_card_end_s=2.0,
    )
    assert spec.background == GeneratedBackground.for_story("story-9")
    assert spec.music == track
    assert (spec.preset, spec.crf, spec.threads) == ("fast", 20, 2)
    assert (spec.duration_s, spec.title_card_end_s) == (31.5, 2.0)
    assert spec.fonts_dir is not None and (spec.fonts_dir / "DejaVuSans.ttf").is_file()
