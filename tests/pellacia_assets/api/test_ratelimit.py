"""Per-token rate limiting: a token bucket per token; once spent, 429 with Retry-After and the error body."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pellacia_assets.api.app import create_app
from pellacia_assets.api.errors import ApiConfigError
from pellacia_assets.api.ratelimit import Rate, RateLimiter, parse_rate
from tests.pellacia_assets.api.conftest import auth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_parse_rate() -> None:
    assert parse_rate("120/minute") == Rate(120, 60.0)
    assert parse_rate(" 5 / Seconds ") == Rate(5, 1.0)
    assert parse_rate("1000/hour") == Rate(1000, 3600.0)
    assert parse_rate("off") is None
    for bad in ("120", "0/minute", "-1/minute", "ten/minute", "5/day"):
        with pytest.raises(ApiConfigError, match="PELLACIA_API_RATE"):
            parse_rate(bad)


def test_a_bucket_bursts_to_the_rate_then_refills_at_it() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60.0), clock)
    assert [limiter.wait_s("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait_s("a") == pytest.approx(20.0)
    assert limiter.wait_s("b") == 0.0  # another token has its own bucket
    clock.now += 19.0
    assert limiter.wait_s("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.wait_s("a") == 0.0
    clock.now += 3600.0  # idle for long: the bucket is full again, never fuller
    assert [limiter.wait_s("a") for _ in range(4)][-1] > 0
    assert RateLimiter(None, clock).wait_s("a") == 0.0


def test_the_api_answers_429_with_retry_after(api_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_API_RATE", "3/minute")
    with TestClient(create_app()) as client:
        assert [client.get("/stories", headers=auth("viewer")).status_code for _ in range(3)] == [200] * 3
        limited = client.get("/stories", headers=auth("viewer"))
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "20"
        assert limited.json()["error"]["code"] == "rate_limited"
        assert "retry in 20 s" in limited.json()["error"]["message"]
        assert client.get("/stories", headers=auth("editor")).status_code == 200  # per token
        assert client.get("/health").status_code in (200, 503)  # /health is never limited


def test_a_rate_that_cannot_be_read_stops_the_app(api_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_API_RATE", "lots")
    with pytest.raises(ApiConfigError, match="PELLACIA_API_RATE='lots'"):
        create_app()
