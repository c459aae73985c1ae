"""`pellacia-dist upload` with bad input: refused in one line before a byte is sent or a row written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, StoryRecord
from resources.platforms import PLATFORMS
from sandbox.platforms import SandboxSuite

PELLACIA_DIST = Path(sys.executable).parent / "pellacia-dist"


def rows() -> tuple[int, int]:
    """(source records, ledger rows) in the app database; (0, 0) when it was never even created."""
    url = Settings.from_env().database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return 0, 0
    with transaction(open_database(url)) as session:
        sources = session.scalar(select(func.count()).select_from(StoryRecord)) or 0
        ledger = session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
    return sources, ledger


def upload(video: Path, *extra: str, title: str = "T") -> int:
    return main(["upload", "--platforms", "all", "--file", str(video), "--title", title, "--json", *extra])


def refused(capsys: pytest.CaptureFixture[str], sandboxes: SandboxSuite) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("pellacia-dist: ") and captured.err.count("\n") == 1, captured.err
    assert all(server.requests == [] for server in sandboxes.servers.values())
    assert rows() == (0, 0), "a refused file must leave no source record and no ledger row"
    return captured.err


def test_a_video_cut_in_half_is_refused_before_anything_is_sent_or_written(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "demo.mp4", seconds=4.0)
    half = tmp_path / "half.mp4"
    half.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    assert upload(half) == 2
    error = refused(capsys, sandboxes)
    assert "half.mp4: incomplete or damaged video (the 'mdat' box" in error
    assert "truncated" in error


def test_a_png_renamed_mp4_exits_2_and_leaves_no_rows(
    sandboxes: SandboxSuite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "poster.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=1080x1920", "-frames:v", "1",
         "-f", "image2", "-c:v", "png", str(picture)],
        check=True,
    )  # fmt: skip
    assert upload(picture) == 2
    assert "poster.mp4: not a video (poster.mp4 is a still image (png_pipe), not a video)" in refused(
        capsys, sandboxes
    )


def test_a_directory_is_a_directory_not_a_missing_file(
    sandboxes: SandboxSuite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "videos.mp4"
    folder.mkdir()
    assert upload(folder) == 2
    assert "is a directory" in refused(capsys, sandboxes)


def test_a_silent_video_needs_allow_silent_and_then_goes_out_with_a_warning(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    with_sound = make_video(tmp_path / "with-sound.mp4", seconds=4.0)
    silent = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(with_sound), "-an", "-c", "copy", "-movflags",
         "+faststart", str(silent)],
        check=True,
    )  # fmt: skip
    assert upload(silent) == 2
    error = refused(capsys, sandboxes)
    assert "silent.mp4: has no audio track; pass --allow-silent" in error

    assert upload(silent, "--allow-silent") == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)["results"]
    assert [(r["platform"], r["status"]) for r in results] == [(p, "published") for p in PLATFORMS]
    assert "warning: silent.mp4 has no audio track; it goes out silent" in captured.err
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS)


def test_ctrl_c_during_an_upload_stops_and_says_what_was_finished(
    sandboxes: SandboxSuite, tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    """A real Ctrl-C (SIGINT) while TikTok's upload is in flight: YouTube was finished, TikTok was cut
    short (its ledger row keeps what was sent), the other four never started; exit 130, no traceback."""
    video = make_video(tmp_path / "short.mp4", seconds=4.0)
    tiktok = sandboxes.servers["tiktok"]
    tiktok.delay_next("upload", 5.0)
    process = subprocess.Popen(
        [str(PELLACIA_DIST), "upload", "--platforms", "all", "--file", str(video), "--title", "T", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while ("upload", "PUT") not in tiktok.requests:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "pellacia-dist: interrupted; what was finished:" in err
    statuses = {r["platform"]: r["status"] for r in json.loads(out)["results"]}
    assert statuses == {
        "youtube": "published",
        "tiktok": "interrupted",
        **dict.fromkeys(PLATFORMS[2:], "not started"),
    }
    assert all(sandboxes.servers[p].requests == [] for p in PLATFORMS[2:])


def test_hashtags_in_any_script_and_a_clean_title_are_published_on_all_six(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "short.mp4", seconds=4.0)
    title = "\x1b[1;31mBreaking\x1b[0m\x07 news"  # terminal escapes never reach a platform
    assert upload(video, "--hashtags", "#café #日本語", title=title) == 0, capsys.readouterr()
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["status"] for r in results} == {"published"}
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS)
    assert sandboxes.servers["youtube"].posts[0]["title"] == "Breaking news"
    for platform in ("tiktok", "instagram", "x"):  # the caption is the post's text there
        assert "#café #日本語" in json.dumps(sandboxes.servers[platform].posts, ensure_ascii=False), platform


def test_a_bidi_control_in_a_hashtag_is_refused_everywhere(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "short.mp4", seconds=4.0)
    assert upload(video, "--hashtags", "#news\u202etxt.exe") == 1
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["status"] for r in results} == {"manual"}  # the copy breaks the rules: a person fixes it
    assert all("bidirectional control character (U+202E)" in r["error"] for r in results)
    assert all(server.posts == [] for server in sandboxes.servers.values())
