"""`pellacia-dist upload` and `analytics fetch` against the six sandboxes, as a user runs them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pellacia_assets.cli import main
from pellacia_assets.publishing import upload_request_key
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.manual import list_entries
from resources.database.models import LedgerEntry, ManualQueueItem
from resources.platforms import PLATFORMS
from resources.platforms.base import CORE_METRICS
from sandbox.platforms import SandboxSuite


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[dict[str, Any]]]:
    code = main(argv)
    results: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["results"]
    return code, results


def upload(capsys: pytest.CaptureFixture[str], video: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    return main_json(
        capsys,
        ["upload", "--platforms", "all", "--file", str(video), "--title", "Wrong number", "--json",
         "--description", "A kind stranger.", "--hashtags", "#storytime #shorts", *extra],
    )  # fmt: skip


def test_upload_to_all_six_then_rerun_then_refuse_another_request_then_allow_it(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make_video: Callable[..., Path],
) -> None:
    monkeypatch.setenv("PELLACIA_POST_GAP_SECONDS", "0")  # the last upload posts again at once on purpose
    video = make_video(tmp_path / "short.mp4")
    code, results = upload(capsys, video)
    assert code == 0, results
    assert [r["platform"] for r in results] == list(PLATFORMS)
    assert {r["status"] for r in results} == {"published"}
    assert all(r["post_id"] and r["url"] and r["error"] is None for r in results)
    assert not any(r["already_published"] for r in results)
    for platform in PLATFORMS:
        [post] = sandboxes.servers[platform].posts
        assert post["sha256"] == sha256(video), platform
    with transaction(open_database(Settings.from_env().database_url)) as session:
        sizes = {row.platform: row.video_bytes for row in session.scalars(select(LedgerEntry))}
    assert sizes == dict.fromkeys(PLATFORMS, video.stat().st_size)  # the ledger keeps what went out

    # The same request again (whitespace and hashtag spelling aside): what is published is reported as such.
    code, again = main_json(
        capsys,
        ["upload", "--platforms", "all", "--file", str(video), "--title", " Wrong  number ",
         "--description", "A kind stranger.", "--hashtags", "#Shorts storytime", "--json"],
    )  # fmt: skip
    assert code == 0, again
    assert {r["status"] for r in again} == {"published"}
    assert all(r["already_published"] and r["error"] is None for r in again)
    assert [(r["post_id"], r["url"]) for r in again] == [(r["post_id"], r["url"]) for r in results]
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS)

    # Another request (another title) for a video already on the accounts stays a refused duplicate.
    code, other = upload(capsys, video, "--title", "Another title")
    assert code == 1
    assert {r["status"] for r in other} == {"skipped"}
    assert all("already went to" in r["error"] for r in other)
    assert all(len(sandboxes.servers[p].posts) == 1 for p in PLATFORMS)

    code, results = upload(capsys, video, "--allow-duplicate", "--platforms", "x")
    assert code == 0 and [r["status"] for r in results] == ["published"]
    assert len(sandboxes.servers["x"].posts) == 2


def test_rerunning_after_a_failure_resumes_only_what_is_unfinished(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make_video: Callable[..., Path],
) -> None:
    video = make_video(tmp_path / "short.mp4")
    made_for_kids = sandboxes.env["PELLACIA_YOUTUBE_MADE_FOR_KIDS"]
    monkeypatch.delenv("PELLACIA_YOUTUBE_MADE_FOR_KIDS")
    code, first = upload(capsys, video, "--platforms", "youtube,x,linkedin")
    assert code == 1
    # A missing declaration needs a person: a manual-queue entry (issue 7, section 6), not a plain failure.
    assert [r["status"] for r in first] == ["manual", "published", "published"], first
    assert [entry.reason for entry in manual_entries("open")] == ["policy"]
    assert first[0]["manual_id"] == manual_entries("open")[0].id

    monkeypatch.setenv("PELLACIA_YOUTUBE_MADE_FOR_KIDS", made_for_kids)
    code, again = upload(capsys, video, "--platforms", "youtube,x,linkedin")
    assert code == 0, again
    assert [r["status"] for r in again] == ["published"] * 3
    assert [r["already_published"] for r in again] == [False, True, True]
    assert [r["post_id"] for r in again[1:]] == [r["post_id"] for r in first[1:]]
    assert [len(sandboxes.servers[p].posts) for p in ("youtube", "x", "linkedin")] == [1, 1, 1]
    [resolved] = manual_entries("resolved")
    assert resolved.resolved_url == again[0]["url"], "the post made by the re-run closes the manual entry"


def manual_entries(status: str) -> list[ManualQueueItem]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return list_entries(session, status)


def test_the_same_request_is_the_same_key_whatever_the_spelling() -> None:
    digest = "ab" * 32
    key = upload_request_key(digest, "Wrong number", "A kind\nstranger.", ["#storytime", "#shorts"])
    assert key.startswith(f"upload-{digest[:16]}-")
    assert upload_request_key(digest, " Wrong  number", "A kind stranger. ", ["#Shorts", "storytime"]) == key
    assert upload_request_key(digest, "Wrong number", "A kind stranger.", ["#storytime"]) != key
    assert upload_request_key(digest, "Right number", "A kind stranger.", ["#storytime", "#shorts"]) != key
    assert upload_request_key("cd" * 32, "Wrong number", "A kind stranger.", ["#storytime", "#shorts"]) != key


def test_analytics_fetch_prints_and_stores_the_platform_metrics_with_their_provenance(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
) -> None:
    """Every core metric is a number with where it came from, or None with the reason: never a 0 standing
    for a value the platform does not report. What was fetched is stored (`analytics history`)."""
    video = make_video(tmp_path / "short.mp4")
    code, results = upload(capsys, video)
    assert code == 0
    for result in results:
        post = f"--post-id={result['post_id']}"  # YouTube ids may start with "-"
        assert main(["analytics", "fetch", "--platform", result["platform"], post, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["platform"] == result["platform"] and report["post_id"] == result["post_id"]
        assert set(report["metrics"]) == set(CORE_METRICS) == set(report["provenance"])
        for name, value in report["metrics"].items():
            if report["provenance"][name] == "unavailable":
                assert value is None and report["reasons"][name], (result["platform"], name)
            else:
                assert isinstance(value, int | float) and name not in report["reasons"]
        assert report["raw"], "every field the platform returned is kept"
        assert main(["analytics", "history", "--platform", result["platform"], post, "--json"]) == 0
        [stored] = json.loads(capsys.readouterr().out)["days"]
        assert stored["metrics"] == report["metrics"]


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
    assert by_platform["youtube"]["status"] == "manual"  # a declaration only a person can make
    assert "PELLACIA_YOUTUBE_MADE_FOR_KIDS" in by_platform["youtube"]["error"]
    assert by_platform["x"]["status"] == "published"
