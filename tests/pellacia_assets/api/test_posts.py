"""Posts (the publish ledger) and analytics through the API: lists with filters and pages, one post, a
story's posts, one post's metric history, and the summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from resources.database.metrics import save_snapshots
from tests.pellacia_assets.analytics.days import day_of
from tests.pellacia_assets.api.conftest import add_post, add_story, auth


def test_posts_filtered_and_paged(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_story(factory, "s-1", approval="approved")
    add_story(factory, "s-2", approval="approved")
    ids = {
        ("s-1", "youtube"): add_post(factory, "s-1", "youtube", post_id="yt1"),
        ("s-1", "x"): add_post(factory, "s-1", "x", state="failed"),
        ("s-2", "youtube"): add_post(factory, "s-2", "youtube", post_id="yt2"),
    }
    viewer = auth("viewer")
    everything = api_client.get("/posts", headers=viewer).json()
    assert everything["total"] == 3
    assert [item["id"] for item in everything["items"]] == sorted(ids.values(), reverse=True)
    page = api_client.get("/posts", params={"limit": 2, "offset": 2}, headers=viewer).json()
    assert [item["id"] for item in page["items"]] == [min(ids.values())]
    youtube = api_client.get("/posts", params={"platform": "youtube"}, headers=viewer).json()
    assert {item["story_key"] for item in youtube["items"]} == {"s-1", "s-2"}
    failed = api_client.get("/posts", params={"state": "failed"}, headers=viewer).json()
    assert [(i["platform"], i["last_error"], i["url"]) for i in failed["items"]] == [
        ("x", "upload refused", None)
    ]
    of_story = api_client.get("/posts", params={"story": "s-2"}, headers=viewer).json()
    assert [item["id"] for item in of_story["items"]] == [ids[("s-2", "youtube")]]
    assert api_client.get("/posts", params={"platform": "myspace"}, headers=viewer).status_code == 422
    assert api_client.get("/posts", params={"state": "lost"}, headers=viewer).status_code == 422

    story_posts = api_client.get("/stories/s-1/posts", headers=viewer).json()
    assert sorted(item["platform"] for item in story_posts["items"]) == ["x", "youtube"]
    only_x = api_client.get("/stories/s-1/posts", params={"platform": "x"}, headers=viewer).json()
    assert [item["state"] for item in only_x["items"]] == ["failed"]
    assert api_client.get("/stories/s-9/posts", headers=viewer).status_code == 404

    one = api_client.get(f"/posts/{ids[('s-1', 'youtube')]}", headers=viewer).json()
    assert (one["state"], one["post_id"], one["url"]) == (
        "published",
        "yt1",
        "https://example.test/youtube/yt1",
    )
    assert datetime.fromisoformat(one["published_at"]).tzinfo is not None
    assert api_client.get("/posts/999", headers=viewer).json()["error"]["code"] == "not_found"


def test_a_posts_metric_history(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_story(factory, "s-1", approval="approved")
    post = add_post(factory, "s-1", "x", post_id="p1")
    unpublished = add_post(factory, "s-1", "youtube", state="failed")
    first, second = date(2026, 3, 10), date(2026, 3, 11)
    save_snapshots(
        factory,
        [
            day_of(day=first, measured={"views": 100, "likes": 7}),
            day_of(day=second, measured={"views": 40}),
            day_of(day=second, post_id="other", measured={"views": 5}),
        ],
    )
    history = api_client.get(f"/posts/{post}/analytics", headers=auth("viewer")).json()
    assert (history["post"], history["platform"], history["post_id"]) == (post, "x", "p1")
    assert [day["date"] for day in history["days"]] == ["2026-03-10", "2026-03-11"]
    assert history["days"][0]["metrics"]["views"] == 100
    assert history["days"][0]["provenance"]["likes"] == "measured"
    assert history["days"][1]["metrics"]["likes"] is None
    assert history["days"][1]["reasons"]["likes"] == "not collected"
    none_yet = api_client.get(f"/posts/{unpublished}/analytics", headers=auth("viewer")).json()
    assert (none_yet["post_id"], none_yet["days"]) == (None, [])
    assert api_client.get("/posts/4242/analytics", headers=auth("viewer")).status_code == 404


def test_the_analytics_summary(api_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_story(factory, "story-1", approval="approved")
    add_post(factory, "story-1", "x", post_id="p1")
    today = datetime.now(UTC).date()
    save_snapshots(
        factory,
        [
            day_of(day=today - timedelta(days=1), measured={"views": 100, "likes": 10}),
            day_of(day=today, measured={"views": 50, "likes": 5}),
            day_of(day=today - timedelta(days=90), measured={"views": 1000}),
        ],
    )
    viewer = auth("viewer")
    summary = api_client.get("/analytics/summary", headers=viewer).json()
    assert (summary["first"], summary["last"]) == ((today - timedelta(days=1)).isoformat(), today.isoformat())
    assert summary["totals"]["views"] == 150
    assert summary["totals"]["engagement_rate"] == 0.1
    assert [p["name"] for p in summary["platforms"]] == ["x"]
    [post] = summary["posts"]
    assert (post["story_key"], post["url"], post["days"]) == ("story-1", "https://example.test/x/p1", 2)
    wide = api_client.get(
        "/analytics/summary", params={"start": (today - timedelta(days=100)).isoformat()}, headers=viewer
    ).json()
    assert wide["totals"]["views"] == 1150
    other = api_client.get("/analytics/summary", params={"platform": "youtube"}, headers=viewer).json()
    assert other["totals"]["posts"] == 0
    backwards = api_client.get(
        "/analytics/summary", params={"start": "2026-03-02", "end": "2026-03-01"}, headers=viewer
    )
    assert backwards.status_code == 422
    ancient = api_client.get("/analytics/summary", params={"end": "0001-01-02"}, headers=viewer)
    assert ancient.status_code == 200
