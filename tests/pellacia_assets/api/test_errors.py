"""Bad input is a 4xx in the one error shape, never a 500: unknown routes and methods, malformed JSON,
wrong types, unknown fields, huge bodies, ids out of range and path traversal; what nobody foresaw is a
logged 500 in the same shape."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.api.app import create_app
from tests.pellacia_assets.api.conftest import add_story, auth


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def test_unknown_routes_and_methods(api_client: TestClient) -> None:
    assert_error(api_client.get("/nowhere", headers=auth("viewer")), 404, "not_found")
    error = assert_error(api_client.put("/stories", headers=auth("editor")), 405, "method_not_allowed")
    assert "/docs" in error["message"]
    assert api_client.put("/stories").headers["allow"] == "GET"


def test_malformed_json_and_wrong_types(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_story(factory, "s-1")
    headers = {**auth("editor"), "Content-Type": "application/json"}
    broken = api_client.post("/stories/s-1/reject", content=b'{"reason": ', headers=headers)
    error = assert_error(broken, 422, "invalid_request")
    assert error["details"][0]["type"] == "json_invalid"
    wrong_type = api_client.post("/stories/s-1/reject", json={"reason": ["a list"]}, headers=auth("editor"))
    error = assert_error(wrong_type, 422, "invalid_request")
    assert error["details"] == [
        {"loc": ["body", "reason"], "msg": "Input should be a valid string", "type": "string_type"}
    ]
    assert error["message"] == "body.reason: Input should be a valid string"
    extra = api_client.post("/stories/s-1/reject", json={"reason": "x", "by": "me"}, headers=auth("editor"))
    assert assert_error(extra, 422, "invalid_request")["details"][0]["type"] == "extra_forbidden"
    not_object = api_client.post("/stories/s-1/reject", json=[1, 2], headers=auth("editor"))
    assert_error(not_object, 422, "invalid_request")
    nul = api_client.post("/stories/s-1/reject", json={"reason": "a\u0000b"}, headers=auth("editor"))
    assert_error(nul, 422, "invalid_request")
    surrogate = api_client.post("/stories/s-1/reject", content=b'{"reason": "\\ud800"}', headers=headers)
    assert "unicode" in assert_error(surrogate, 422, "invalid_request")["message"]
    bad_query = api_client.get("/stories", params={"limit": "many"}, headers=auth("viewer"))
    assert assert_error(bad_query, 422, "invalid_request")["details"][0]["loc"] == ["query", "limit"]
    assert_error(api_client.get("/stories?approval=maybe", headers=auth("viewer")), 422, "invalid_request")
    assert_error(api_client.get("/stories?limit=201", headers=auth("viewer")), 422, "invalid_request")
    assert_error(api_client.get("/stories?q=%00", headers=auth("viewer")), 422, "invalid_request")
    # the story is still pending: nothing was half-done by any of them
    assert api_client.get("/stories/s-1", headers=auth("viewer")).json()["approval"] == "pending"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/stories/%2e%2e", 422),
        ("/stories/.hidden", 422),
        ("/stories/a%2Fb", 404),
        ("/stories/..%2F..%2Fetc", 404),
        ("/stories/" + "k" * 201, 422),
        ("/stories/caf%C3%A9", 422),
        ("/posts/0", 422),
        ("/posts/-1", 422),
        ("/posts/2147483648", 422),
        ("/posts/99999999999999999999999", 422),
        ("/posts/1.5", 422),
        ("/posts/9", 404),
        ("/manual/..%2F..%2Fetc%2Fpasswd/export.zip", 404),
        ("/manual/%2e%2e/export.zip", 422),
        ("/manual/1%20OR%201=1/export.zip", 422),
    ],
)
def test_ids_out_of_range_and_path_traversal(api_client: TestClient, path: str, status: int) -> None:
    response = api_client.get(path, headers=auth("viewer"))
    assert_error(response, status, "invalid_request" if status == 422 else "not_found")


def test_huge_bodies_are_refused_before_they_are_read(
    api_env: Path, monkeypatch: pytest.MonkeyPatch, factory: sessionmaker[Session]
) -> None:
    monkeypatch.setenv("PELLACIA_API_MAX_BODY_BYTES", "2048")
    add_story(factory, "s-1")
    with TestClient(create_app()) as client:
        declared = client.post("/stories/s-1/reject", json={"reason": "x" * 5000}, headers=auth("editor"))
        assert_error(declared, 413, "body_too_large")

        def chunks() -> Iterator[bytes]:
            yield b'{"reason": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        streamed = client.post(
            "/stories/s-1/reject",
            content=chunks(),
            headers={**auth("editor"), "Content-Type": "application/json"},
        )
        assert_error(streamed, 413, "body_too_large")
        assert client.get("/stories/s-1", headers=auth("viewer")).json()["approval"] == "pending"
        small = client.post("/stories/s-1/reject", json={"reason": "dull"}, headers=auth("editor"))
        assert small.status_code == 200


def test_an_unexpected_error_is_a_logged_500_in_the_error_shape(
    api_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app()

    def explode() -> None:
        raise RuntimeError("the flux capacitor is empty")

    app.add_api_route("/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/explode", headers={"X-Request-ID": "req-42"})
    error = assert_error(response, 500, "internal_error")
    assert "flux" not in error["message"]
    assert response.headers["X-Request-ID"] == "req-42"
    [record] = [r for r in caplog.records if r.name == "pellacia.api"]
    assert record.exc_info is not None and "flux capacitor" in str(record.exc_info[1])
    assert "GET /explode" in record.getMessage()


def test_an_unreachable_database_is_503_not_500(api_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELLACIA_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert_error(client.get("/stories", headers=auth("viewer")), 503, "database_unavailable")
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["database"]["ok"] is False


def test_every_response_carries_a_request_id(api_client: TestClient) -> None:
    given = api_client.get("/health", headers={"X-Request-ID": "dash-7"})
    assert given.headers["X-Request-ID"] == "dash-7"
    made = api_client.get("/stories", headers={b"X-Request-ID": "not ok\u00e9".encode("latin-1")})
    assert len(made.headers["X-Request-ID"]) == 32
