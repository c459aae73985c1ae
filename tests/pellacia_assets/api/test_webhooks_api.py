"""The webhook endpoints: admin only; the secret shown once; listing, the delivery log and stopping a
webhook; and a webhook registered over the API hears a real event."""

from __future__ import annotations

from typing import get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.api.webhooks_routes import DeliveryState, Event
from resources.database.ledger import LedgerTarget, open_entry
from resources.database.webhooks import EVENTS, STATES
from tests.pellacia_assets.api.conftest import add_story, auth

HOOK: dict[str, object] = {
    "url": "https://hooks.example/pellacia",
    "events": ["post.published", "post.failed"],
}


def create(client: TestClient, body: dict[str, object] = HOOK) -> dict[str, object]:
    response = client.post("/webhooks", json=body, headers=auth("admin"))
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_the_api_names_the_events_and_states_the_outbox_knows() -> None:
    assert get_args(Event) == EVENTS
    assert get_args(DeliveryState) == STATES


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/webhooks"),
        ("GET", "/webhooks"),
        ("GET", "/webhooks/1"),
        ("DELETE", "/webhooks/1"),
        ("GET", "/webhooks/1/deliveries"),
        ("POST", "/webhooks/1/test"),
    ],
)
def test_every_endpoint_needs_an_admin_token(api_client: TestClient, method: str, path: str) -> None:
    body = HOOK if method == "POST" else None
    assert api_client.request(method, path, json=body).status_code == 401
    for role in ("viewer", "editor"):
        refused = api_client.request(method, path, json=body, headers=auth(role))
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"


def test_the_secret_is_shown_once(api_client: TestClient) -> None:
    created = create(api_client)
    assert str(created["secret"]).startswith("whsec_")
    assert (created["url"], created["events"], created["active"]) == (HOOK["url"], HOOK["events"], True)
    listed = api_client.get("/webhooks", headers=auth("admin")).json()
    assert listed["total"] == 1 and listed["limit"] == 50 and listed["offset"] == 0
    [item] = listed["items"]
    assert item["id"] == created["id"] and "secret" not in item
    one = api_client.get(f"/webhooks/{created['id']}", headers=auth("admin")).json()
    assert "secret" not in one and one["url"] == HOOK["url"]
    assert str(created["secret"]) not in api_client.get("/openapi.json").text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example/", "events": ["post.failed"]}, "http"),
        ({"url": "https://hooks.example/", "events": ["post.deleted"]}, "events"),
        ({"url": "https://hooks.example/", "events": []}, "events"),
        ({"url": "https://hooks.example/", "events": ["post.failed"], "secret": "mine"}, "secret"),
        ({"url": "https://hooks.example/\n", "events": ["post.failed"]}, "url"),
    ],
)
def test_a_bad_webhook_is_refused(api_client: TestClient, body: dict[str, object], field: str) -> None:
    response = api_client.post("/webhooks", json=body, headers=auth("admin"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and field in str(error)


def test_listing_pages_and_deleting_stops_a_webhook(api_client: TestClient) -> None:
    ids = [create(api_client, {**HOOK, "url": f"https://hooks.example/{n}"})["id"] for n in range(3)]
    page = api_client.get("/webhooks?limit=2&offset=1", headers=auth("admin")).json()
    assert ([item["id"] for item in page["items"]], page["total"]) == (ids[1:], 3)
    assert api_client.delete(f"/webhooks/{ids[0]}", headers=auth("admin")).status_code == 204
    remaining = api_client.get("/webhooks", headers=auth("admin")).json()
    assert [item["id"] for item in remaining["items"]] == ids[1:]
    everything = api_client.get("/webhooks?include_deleted=true", headers=auth("admin")).json()
    assert [item["active"] for item in everything["items"]] == [False, True, True]
    missing = api_client.delete("/webhooks/999", headers=auth("admin"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api_client.get("/webhooks/0", headers=auth("admin")).status_code == 422
    assert api_client.post(f"/webhooks/{ids[0]}/test", headers=auth("admin")).status_code == 404


def test_the_delivery_log_shows_events_and_pings(
    api_client: TestClient, factory: sessionmaker[Session]
) -> None:
    hook = create(api_client)
    ping = api_client.post(f"/webhooks/{hook['id']}/test", headers=auth("admin"))
    assert ping.status_code == 202
    assert (ping.json()["event"], ping.json()["state"]) == ("webhook.ping", "pending")
    add_story(factory, "flood", approval="approved")
    journal = open_entry(factory, LedgerTarget("flood", 1, "youtube", "main", "c" * 64))
    journal.mark_published("vid-9", "https://youtube.test/watch?v=vid-9")
    log = api_client.get(f"/webhooks/{hook['id']}/deliveries", headers=auth("admin")).json()
    assert log["total"] == 2
    newest, oldest = log["items"]
    assert (newest["event"], oldest["event"]) == ("post.published", "webhook.ping")
    assert newest["payload"]["post_id"] == "vid-9" and newest["payload"]["story_key"] == "flood"
    assert (newest["state"], newest["attempts"], newest["delivered_at"]) == ("pending", 0, None)
    assert newest["next_attempt_at"] is not None
    filtered = api_client.get(f"/webhooks/{hook['id']}/deliveries?state=delivered", headers=auth("admin"))
    assert filtered.json()["total"] == 0
    assert api_client.get("/webhooks/999/deliveries", headers=auth("admin")).status_code == 404
    assert (
        api_client.get(f"/webhooks/{hook['id']}/deliveries?state=lost", headers=auth("admin")).status_code
        == 422
    )
