"""`GET /health`: no token needed; 200 when the database, the Dagster instance, the daemon's heartbeats and
the free disk are fine, 503 with each check's finding when any is not."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from pellacia_assets.settings import Settings
from tests.pellacia_assets.api.conftest import auth, daemons_beat


def beat(age_s: float = 0.0) -> None:
    daemons_beat(Settings.from_env(), age_s)


def test_healthy_when_every_check_holds(api_client: TestClient) -> None:
    beat()
    response = api_client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "dagster", "daemon", "disk"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "daemons beat within 120 s" in body["checks"]["daemon"]["detail"]


def test_no_daemon_is_degraded(api_client: TestClient) -> None:
    response = api_client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] and body["checks"]["dagster"]["ok"]
    daemon = body["checks"]["daemon"]
    assert not daemon["ok"]
    assert "SENSOR: no heartbeat" in daemon["detail"] and "pellacia-dist serve" in daemon["detail"]


def test_a_stale_heartbeat_is_degraded(api_client: TestClient) -> None:
    beat(age_s=600)
    daemon = api_client.get("/health").json()["checks"]["daemon"]
    assert not daemon["ok"]
    assert re.search(r"SENSOR: last beat 60\d s ago", daemon["detail"])


def test_a_full_disk_is_degraded(api_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    beat()
    monkeypatch.setenv("PELLACIA_MIN_FREE_MB", str(10**12))
    response = api_client.get("/health")
    assert response.status_code == 503
    disk = response.json()["checks"]["disk"]
    assert not disk["ok"] and "GiB free in the home" in disk["detail"]


def test_metrics_are_prometheus_text_for_a_viewer(api_client: TestClient) -> None:
    response = api_client.get("/metrics", headers=auth("viewer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE pellacia_stories gauge" in response.text
