"""`pellacia-dist upload` and `analytics fetch` against the six sandboxes, as a user runs them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pellacia_assets.cli import main
from resources.platforms import PLATFORMS
from sandbox.platforms import SandboxSuite


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def upload(capsys: pytest.CaptureFixture[str], video: Path, *extra: str) -> tuple[int, list[dict[str, str]]]:
    code = main(
        ["upload", "--platforms", "all", "--file", str(video), "--title", "Wrong number", "--json",
         "--description", "A kind stranger.", "--hashtags", "#storytime #shorts", *extra]
    )  # fmt: skip
    results: list[dict[str, str]] = json.loads(capsys.readouterr().out)["results"]
    return code, results


def test_upload_to_all_six_then_refuse_the_duplicate_then_allow_it(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "short.mp4")
    code, results = upload(capsys, video)
    assert code == 0, results
    assert [r["platform"] for r in results] == list(PLATFORMS)
    assert {r["status"] for r in results} == {"published"}
    assert all(r["post_id"] and r["url"] and r["error"] is None for r in results)
    for platform in PLATFORMS:
        [post] = sandboxes.servers[platform].posts
        assert post["sha256"] == sha256(video), platform

    code, results = upload(capsys, video)
    assert code == 1
    assert {r["status"] for r in results} == {"skipped"}
    assert all("already published as" in r["error"] for r in results)
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS)

    code, results = upload(capsys, video, "--allow-duplicate", "--platforms", "x")
    assert code == 0 and [r["status"] for r in results] == ["published"]
    assert len(sandboxes.servers["x"].posts) == 2


def test_analytics_fetch_prints_the_platform_metrics(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "short.mp4")
    code, results = upload(capsys, video)
    assert code == 0
    for result in results:
        assert (
            main(
                [
                    "analytics",
                    "fetch",
                    "--platform",
                    result["platform"],
                    "--post-id",
                    result["post_id"],
                    "--json",
                ]
            )
            == 0
        )
        report = json.loads(capsys.readouterr().out)
        assert report["platform"] == result["platform"] and report["post_id"] == result["post_id"]
        assert {"views", "likes", "comments", "shares"} <= set(report["metrics"])
        assert all(
            isinstance(report["metrics"][name], int) for name in ("views", "likes", "comments", "shares")
        )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.mp4", None, "no such file"),
        ("notes.mp4", b"this is not a video at all", "not a video"),
    ],
)
def test_bad_files_exit_non_zero_before_anything_is_sent(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code = main(["upload", "--platforms", "all", "--file", str(path), "--title", "T", "--json"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert all(server.requests == [] for server in sandboxes.servers.values())


def test_unknown_platform_is_refused(
    pellacia_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_video: Callable[..., Path]
) -> None:
    video = make_video(tmp_path / "short.mp4", seconds=1)
    assert main(["upload", "--platforms", "youtube,myspace", "--file", str(video), "--title", "T"]) == 2
    assert "unknown platform 'myspace'" in capsys.readouterr().err


def test_a_failing_platform_fails_alone(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make_video: Callable[..., Path],
) -> None:
    monkeypatch.delenv("PELLACIA_YOUTUBE_MADE_FOR_KIDS")
    video = make_video(tmp_path / "short.mp4")
    code, results = upload(capsys, video, "--platforms", "youtube,x")
    assert code == 1
    by_platform = {r["platform"]: r for r in results}
    assert by_platform["youtube"]["status"] == "failed"
    assert "PELLACIA_YOUTUBE_MADE_FOR_KIDS" in by_platform["youtube"]["error"]
    assert by_platform["x"]["status"] == "published"
