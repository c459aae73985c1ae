"""The operator's view: `dagster dev` on a temporary home, driven through GraphQL and headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pellacia_assets.cli import SAMPLES_DIR, add_story
from pellacia_assets.instance import WORKSPACE_FILE, prepare_dagster_home
from pellacia_assets.jobs import PRODUCTION_ASSETS
from pellacia_assets.settings import Settings

pytestmark = pytest.mark.e2e

REPOSITORY = {"repositoryLocationName": "pellacia", "repositoryName": "__repository__"}
LIST_ASSETS = """
query { assetNodes { assetKey { path } groupName isPartitioned
  partitionDefinition { name }
  dependencyKeys { path } dependedByKeys { path } } }
"""
LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } } } }
"""
RUN_STATUS = "query RunStatus($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"
MATERIALIZATIONS = """
query M($assetKey: AssetKeyInput!) { assetOrError(assetKey: $assetKey) { ... on Asset {
  assetMaterializations(limit: 5) { partition metadataEntries { label } } } } }
"""
CHECKS = """
query C($assetKey: AssetKeyInput!) { assetNodeOrError(assetKey: $assetKey) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name blocking
    executionForLatestMaterialization { status } } } } } } }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.load(response)
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


@pytest.fixture
def dagster_dev(pellacia_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """`dagster dev` (webserver + daemon) on a fresh home with one sample story registered."""
    monkeypatch.setenv("PELLACIA_WHISPER_MODEL", "tiny.en")
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    add_story(settings, SAMPLES_DIR / "lighthouse-keeper.md", key="lighthouse")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    log = (pellacia_home / "dagster-dev.log").open("wb")
    process = subprocess.Popen(
        [str(bin_dir / "dagster"), "dev", "-w", str(WORKSPACE_FILE), "-h", "127.0.0.1", "-p", str(port)],
        cwd=WORKSPACE_FILE.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"dagster dev did not start: {(pellacia_home / 'dagster-dev.log').read_text()}"
                    )
                time.sleep(0.5)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_lineage_launch_and_asset_graph(dagster_dev: int, artifacts_dir: Path) -> None:
    port = dagster_dev
    nodes = {tuple(node["assetKey"]["path"]): node for node in graphql(port, LIST_ASSETS)["assetNodes"]}
    assert {(name,) for name in PRODUCTION_ASSETS} <= set(nodes)
    assert nodes[("story",)]["groupName"] == "sources"
    assert nodes[("video",)]["partitionDefinition"]["name"] == "story"
    assert [dep["path"] for dep in nodes[("script",)]["dependencyKeys"]] == [["story"]]
    captions_reads = sorted(dep["path"][0] for dep in nodes[("captions",)]["dependencyKeys"])
    assert captions_reads == ["script", "story", "voiceover"]
    video_reads = sorted(dep["path"][0] for dep in nodes[("video",)]["dependencyKeys"])
    assert video_reads == ["captions", "script", "voiceover"]

    launched = graphql(
        port,
        LAUNCH,
        {
            "executionParams": {
                "selector": {
                    **REPOSITORY,
                    "pipelineName": "__ASSET_JOB",
                    "assetSelection": [{"path": [name]} for name in PRODUCTION_ASSETS],
                },
                "mode": "default",
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "lighthouse"}]},
            }
        },
    )["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = ""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = graphql(port, RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
        if status in {"SUCCESS", "FAILURE", "CANCELED"}:
            break
        time.sleep(2)
    assert status == "SUCCESS"

    video = graphql(port, MATERIALIZATIONS, {"assetKey": {"path": ["video"]}})["assetOrError"]
    latest = video["assetMaterializations"][0]
    assert latest["partition"] == "lighthouse"
    assert {"poster_frames", "videos", "first_video"} <= {
        entry["label"] for entry in latest["metadataEntries"]
    }
    checks = graphql(port, CHECKS, {"assetKey": {"path": ["video"]}})["assetNodeOrError"]
    by_name = {check["name"]: check for check in checks["assetChecksOrError"]["checks"]}
    assert {name: check["blocking"] for name, check in by_name.items()} == {
        "video_format": True,
        "video_layout": False,
    }
    assert {check["executionForLatestMaterialization"]["status"] for check in by_name.values()} == {
        "SUCCEEDED"
    }

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        # The first-visit "join the community" dialog opens a second after the page, over the graph; the
        # UI skips it once this browser dismissed it (its localStorage key, src/NUX/CommunityNux.tsx).
        page.add_init_script("window.localStorage.setItem('communityNux', JSON.stringify('1'))")
        page.goto(
            f"http://127.0.0.1:{port}/locations/pellacia/asset-groups/production", wait_until="networkidle"
        )
        page.get_by_text("voiceover").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1_500)  # past the dialog's one-second delay
        page.get_by_text("Join the Dagster community").wait_for(state="hidden", timeout=10_000)
        screenshot = artifacts_dir / "asset-graph.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
