"""All six sandboxes together: the environment the clients read, and the hosts kept apart as in reality."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from resources.platforms.config import DEFAULT_URLS
from sandbox.platforms import PLATFORMS, SandboxSuite, consent_pages, platform_sandboxes

# Which of a client's configured roots share a host in reality (the rest each have their own).
SHARED_HOSTS = {
    "youtube": [],
    "tiktok": [("api", "oauth")],
    "instagram": [("api", "oauth")],
    "facebook": [("api", "oauth")],
    "x": [("api", "oauth")],
    "linkedin": [],
}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxSuite]:
    with platform_sandboxes(tmp_path_factory.mktemp("suite")) as running_suite:
        yield running_suite


def port(url: str) -> int | None:
    return urlsplit(url).port


def test_the_sandboxes_are_the_clients_platforms(suite: SandboxSuite) -> None:
    assert set(PLATFORMS) == set(DEFAULT_URLS) == set(suite.servers)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_root_a_client_reads_is_set_and_no_other(suite: SandboxSuite, platform: str) -> None:
    prefix = f"PELLACIA_{platform.upper()}_"
    set_roots = {
        name.removeprefix(prefix).removesuffix("_URL").lower()
        for name in suite.env
        if name.startswith(prefix) and name.endswith("_URL")
    }
    assert set_roots == set(DEFAULT_URLS[platform])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_roots_share_a_port_exactly_where_they_share_a_host(suite: SandboxSuite, platform: str) -> None:
    prefix = f"PELLACIA_{platform.upper()}_"
    ports = {root: port(suite.env[f"{prefix}{root.upper()}_URL"]) for root in DEFAULT_URLS[platform]}
    shared = {frozenset(pair) for pair in SHARED_HOSTS[platform]}
    for first in ports:
        for second in ports:
            if first < second:
                same = frozenset((first, second)) in shared
                assert (ports[first] == ports[second]) == same, (first, second)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_uploads_and_consent_pages_are_on_hosts_of_their_own(suite: SandboxSuite, platform: str) -> None:
    server = suite.servers[platform]
    api = port(server.url("api"))
    consent = port(server.url("consent"))
    assert consent != api
    if "upload" in server.roots:
        assert port(server.url("upload")) != api
    assert ("upload" in server.roots) == (platform != "x")  # X takes media on api.x.com itself


def test_the_printed_consent_pages_answer(suite: SandboxSuite) -> None:
    pages = consent_pages(suite.servers)
    assert set(pages) == set(PLATFORMS)
    for page in pages.values():
        refused = httpx.get(page, follow_redirects=False)  # no client_id: answered on the page itself
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_sandbox_has_the_shared_helpers(suite: SandboxSuite, platform: str) -> None:
    server = suite.servers[platform]
    grant = server.issue_tokens()
    assert server.tokens.valid(grant.access_token)
    server.expire_tokens()
    assert not server.tokens.valid(grant.access_token)
    assert server.posts == []
    server.reject_next_processing("rejected by the test")
    for helper in (server.fail_next, server.rate_limit_next, server.drop_next):
        helper("no-such-route")
    server.clear_faults()


def test_pellacia_dist_sandbox_serves_the_six_apis_and_their_web_pages(tmp_path: Path) -> None:
    """`pellacia-dist sandbox` as a user runs it: the exports, every platform's web root included, answer;
    `sources poll` with the exports finds its Reddit posts and news articles; Ctrl-C stops it."""
    command = [str(Path(sys.executable).parent / "pellacia-dist"), "sandbox"]
    env = {**os.environ, "PELLACIA_HOME": str(tmp_path)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("# Ctrl-C"):
                break
        exports = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert {f"PELLACIA_{p.upper()}_API_URL" for p in PLATFORMS} <= set(exports)
        assert {f"PELLACIA_{p.upper()}_WEB_USERNAME" for p in PLATFORMS} <= set(exports)
        login = httpx.get(f"{exports['PELLACIA_TIKTOK_WEB_URL']}/login", timeout=10)
        assert login.status_code == 200 and "<title>Log in | TikTok</title>" in login.text
        assert f"#   tiktok: {exports['PELLACIA_TIKTOK_WEB_USERNAME']} " in "".join(lines)
        for platform in PLATFORMS:
            root = httpx.get(exports[f"PELLACIA_{platform.upper()}_WEB_URL"] + "/", timeout=10)
            assert root.status_code < 500, platform
        polled = subprocess.run(
            [command[0], "sources", "poll", "--json"],
            env={**env, **exports, "PELLACIA_HOME": str(tmp_path / "factory")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert polled.returncode == 0, polled.stderr
        report = {source["source"]: source for source in json.loads(polled.stdout)}
        for source in ("reddit", "feeds"):
            assert [item["approval"] for item in report[source]["added"]] == ["pending"] * 3, report[source]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
