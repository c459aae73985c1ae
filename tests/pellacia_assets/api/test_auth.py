"""Bearer tokens: every endpoint but /health needs one, with a role high enough; 401, 403 and 503 answer
in the error shape, and the tokens file is read again when it changes."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.api.app import create_app
from pellacia_assets.api.auth import ApiToken, Principal, authenticate_token
from pellacia_assets.api.errors import ApiConfigError
from resources.database.engine import transaction
from resources.database.manual import open_entry
from resources.database.post_queue import enqueue
from tests.pellacia_assets.api.conftest import TOKENS, add_post, add_story, auth

# (method, path, body, lowest role, status with that role) for every endpoint of the API core
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str, int]] = [
    ("GET", "/stories", None, "viewer", 200),
    ("GET", "/stories/s-1", None, "viewer", 200),
    ("POST", "/stories/s-1/approve", None, "editor", 200),
    ("POST", "/stories/s-2/reject", {"reason": "too long"}, "editor", 200),
    ("POST", "/stories/s-1/breaking", None, "editor", 200),
    ("POST", "/stories/links", {"url": 42}, "editor", 422),
    ("GET", "/stories/s-1/posts", None, "viewer", 200),
    ("GET", "/posts", None, "viewer", 200),
    ("GET", "/posts/{post}", None, "viewer", 200),
    ("GET", "/posts/{post}/analytics", None, "viewer", 200),
    ("POST", "/schedule", {"story": "s-1"}, "editor", 202),
    ("GET", "/schedule", None, "viewer", 200),
    ("DELETE", "/schedule/{queued}", None, "editor", 200),
    ("GET", "/queue", None, "viewer", 200),
    ("GET", "/analytics/summary", None, "viewer", 200),
    ("GET", "/manual", None, "viewer", 200),
    ("GET", "/manual/{manual}/export.zip", None, "viewer", 409),
    ("POST", "/manual/{manual}/resolve", {"url": "https://x.com/a/status/1"}, "editor", 200),
    ("GET", "/metrics", None, "viewer", 200),
]


def fill(factory: sessionmaker[Session]) -> dict[str, int]:
    """Two pending stories, a published post, a queued post and an open manual entry to act on."""
    add_story(factory, "s-1")
    add_story(factory, "s-2")
    post = add_post(factory, "s-1", "youtube", post_id="yt1")
    with transaction(factory) as session:
        [queued] = enqueue(session, "s-1", 1, [("x", "main")])
        manual = open_entry(
            session, "reauth", "x: token revoked", story_key="s-1", platform="x", account="main"
        )
        ids = {"post": post, "queued": queued.id, "manual": manual.id}
    return ids


def call(client: TestClient, method: str, path: str, body: dict[str, Any] | None, **kwargs: Any) -> Any:
    return client.request(method, path, json=body, **kwargs)


@pytest.mark.parametrize(("method", "path", "body", "role", "status"), ENDPOINTS)
def test_each_endpoint_with_no_token_a_wrong_one_a_low_role_and_its_role(
    api_client: TestClient,
    factory: sessionmaker[Session],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    role: str,
    status: int,
) -> None:
    path = path.format(**fill(factory))
    missing = call(api_client, method, path, body)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = call(api_client, method, path, body, headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    other_scheme = call(api_client, method, path, body, headers={"Authorization": f"Basic {TOKENS[role]}"})
    assert other_scheme.status_code == 401
    if role == "editor":
        low = call(api_client, method, path, body, headers=auth("viewer"))
        assert low.status_code == 403, low.text
        assert low.json()["error"] == {
            "code": "forbidden",
            "message": "this needs the editor role; the token 'viewer' is viewer",
        }
    allowed = call(api_client, method, path, body, headers=auth(role))
    assert allowed.status_code == status, allowed.text


def test_only_health_and_the_documentation_are_public(api_client: TestClient) -> None:
    """Every operation in the schema (the webhooks' and the page's included) refuses a request without a
    token; /health answers one."""
    schema = api_client.get("/openapi.json").json()
    assert api_client.get("/docs").status_code == 200
    public = []
    for path, operations in schema["paths"].items():
        for method in operations:
            concrete = path.replace("{key}", "s-1")
            for name in ("{post}", "{queue_id}", "{entry_id}", "{webhook}"):
                concrete = concrete.replace(name, "1")
            response = api_client.request(method.upper(), concrete, json={})
            if response.status_code != 401:
                public.append((method, path, response.status_code))
    assert [(method, path) for method, path, _status in public] == [("get", "/health")]
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "description": "an API token: `Authorization: Bearer <token>`",
        "scheme": "bearer",
    }


def test_the_decision_is_recorded_under_the_token_name(
    api_client: TestClient, factory: sessionmaker[Session]
) -> None:
    add_story(factory, "s-1")
    approved = api_client.post("/stories/s-1/approve", headers=auth("admin"))
    assert approved.json()["approval"] == "approved"
    assert approved.json()["approval_by"] == "admin"


def test_no_token_configured_every_protected_endpoint_says_what_to_set(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PELLACIA_API_TOKEN", raising=False)
    monkeypatch.delenv("PELLACIA_API_TOKENS_FILE", raising=False)
    with TestClient(create_app()) as client:
        response = client.get("/stories", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "auth_not_configured"
        assert "set PELLACIA_API_TOKEN" in error["message"]
        assert client.get("/health").json()["checks"]["database"]["ok"] is True


def test_the_single_token_is_an_admin_named_default(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch, factory: sessionmaker[Session]
) -> None:
    monkeypatch.delenv("PELLACIA_API_TOKENS_FILE", raising=False)
    monkeypatch.setenv("PELLACIA_API_TOKEN", "single-token-5d8e2a")
    add_story(factory, "s-1")
    with TestClient(create_app()) as client:
        decided = client.post("/stories/s-1/approve", headers={"Authorization": "bearer single-token-5d8e2a"})
        assert decided.status_code == 200
        assert decided.json()["approval_by"] == "default"
        assert (
            client.get("/stories", headers={"Authorization": "Bearer single-token-5d8e"}).status_code == 401
        )


def test_a_yaml_tokens_file_is_read_again_when_it_changes(
    pellacia_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("- name: desk\n  token: desk-token-1\n  role: viewer\n")
    monkeypatch.delenv("PELLACIA_API_TOKEN", raising=False)
    monkeypatch.setenv("PELLACIA_API_TOKENS_FILE", str(tokens))
    with TestClient(create_app()) as client:
        assert client.get("/stories", headers={"Authorization": "Bearer desk-token-1"}).status_code == 200
        tokens.write_text("- name: desk\n  token: desk-token-2\n  role: viewer\n")
        later = tokens.stat().st_mtime_ns + 1_000_000_000
        os.utime(tokens, ns=(later, later))
        assert client.get("/stories", headers={"Authorization": "Bearer desk-token-1"}).status_code == 401
        assert client.get("/stories", headers={"Authorization": "Bearer desk-token-2"}).status_code == 200
        tokens.write_text("not: a list\n")
        os.utime(tokens, ns=(later + 10**9, later + 10**9))
        broken = client.get("/stories", headers={"Authorization": "Bearer desk-token-2"})
        assert broken.status_code == 503
        assert broken.json()["error"]["code"] == "auth_misconfigured"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not yaml: [", "neither YAML nor JSON"),
        ('{"name": "a"}', "must be a list"),
        ('[{"name": "a", "token": "t", "role": "owner"}]', "'owner' is not one of viewer, editor, admin"),
        ('[{"name": "a", "role": "viewer"}]', "entry 1 (a) has no token"),
        ('[{"name": "a", "token": "t", "role": "viewer"}, {"name": "a", "token": "u", "role": "viewer"}]',
         "names must be unique"),
        ('[{"name": "a", "token": "t", "role": "viewer"}, {"name": "b", "token": "t", "role": "admin"}]',
         "share one token"),
    ],
)  # fmt: skip
def test_a_tokens_file_that_cannot_be_used_stops_the_app(
    pellacia_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, complaint: str
) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(content)
    monkeypatch.setenv("PELLACIA_API_TOKENS_FILE", str(tokens))
    with pytest.raises(ApiConfigError, match="PELLACIA_API_TOKENS_FILE") as raised:
        create_app()
    assert complaint in str(raised.value)


def test_authenticate_token_finds_the_one_token_and_nothing_near_it() -> None:
    tokens = [
        ApiToken("desk", b"desk-secret-token", "viewer"),
        ApiToken("chief", b"chief-secret-token", "admin"),
    ]
    find: Callable[[str], Principal | None] = lambda token: authenticate_token(token, tokens)  # noqa: E731
    assert find("chief-secret-token") == Principal("chief", "admin")
    assert find("desk-secret-token") == Principal("desk", "viewer")
    assert find("desk-secret-toke") is None
    assert find("desk-secret-tokenX") is None
    assert find("") is None
    assert find("désk-secret-token") is None  # not ASCII: compared as bytes, never an error


def test_the_documentation_page_loads_swagger_ui_from_the_api_itself(api_client: TestClient) -> None:
    """No CDN: every script and stylesheet /docs names is served by the API, so it works offline."""
    page = api_client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert assets and all(asset.startswith("/docs/assets/") for asset in assets), assets
    for asset in assets:
        served = api_client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100, asset
