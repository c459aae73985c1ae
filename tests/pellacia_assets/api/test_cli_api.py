"""`pellacia-dist api` as an operator runs it: a real uvicorn process on a free port, JSON logs carrying
each request's id, a clean stop on SIGTERM; and a refusal to start without a token."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pellacia_assets.cli import main

PELLACIA_DIST = str(Path(sys.executable).parent / "pellacia-dist")
TOKEN = "cli-test-token-4f1a9c"


@dataclass
class Running:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("api")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PELLACIA_", "DAGSTER_"))}
    env |= {"PELLACIA_HOME": str(folder / "home"), "PELLACIA_API_TOKEN": TOKEN, "PELLACIA_LOG_FORMAT": "json"}
    log = folder / "api.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PELLACIA_DIST, "api", "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"`pellacia-dist api` exited: {log.read_text()}")
            try:
                httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"`pellacia-dist api` did not answer in 60 s: {log.read_text()}")
                time.sleep(0.2)
        yield Running(url, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def test_the_real_server_answers_health_and_stories(server: Running) -> None:
    health = httpx.get(f"{server.url}/health", timeout=30)
    assert health.status_code == 503  # no daemon runs on this home
    assert health.json()["checks"]["database"]["ok"] is True
    stories = httpx.get(f"{server.url}/stories", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert stories.status_code == 200
    assert stories.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    refused = httpx.get(f"{server.url}/stories", timeout=30, headers={"X-Request-ID": "probe-1"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "server" not in refused.headers
    assert httpx.get(f"{server.url}/openapi.json", timeout=30).json()["info"]["title"] == "Pellacia Press API"


def test_its_logs_are_json_with_the_request_id_and_it_stops_on_sigterm(server: Running) -> None:
    httpx.get(f"{server.url}/stories", headers={"X-Request-ID": "probe-2"}, timeout=30)
    server.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, as a killed process reports it
    assert server.process.wait(timeout=30) == -signal.SIGTERM
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert lines[-1]["message"].startswith("Finished server process")
    access = [line for line in lines if line.get("request_id") == "probe-2"]
    assert access and access[0]["logger"] == "uvicorn.access"
    assert "/stories" in access[0]["message"] and "401" in access[0]["message"]


def test_it_refuses_to_start_without_a_token(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PELLACIA_API_TOKEN", raising=False)
    monkeypatch.delenv("PELLACIA_API_TOKENS_FILE", raising=False)
    assert main(["api", "--port", str(free_port())]) == 2
    error = capsys.readouterr().err
    assert "set PELLACIA_API_TOKEN" in error and "does not start" in error
    monkeypatch.setenv("PELLACIA_API_TOKEN", TOKEN)
    monkeypatch.setenv("PELLACIA_API_RATE", "fast")
    assert main(["api"]) == 2
    assert "PELLACIA_API_RATE='fast'" in capsys.readouterr().err
