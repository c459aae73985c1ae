"""The summary per platform and per story: views summed from daily values (or a post's latest lifetime
total), engagement rate over the metrics known, the best post, and unknown kept unknown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from pellacia_assets.analytics.snapshot import LivePost
from pellacia_assets.analytics.summary import summarise, summary_json, summary_markdown, summary_table
from tests.pellacia_assets.analytics.days import day_of

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
NO_SAVES = "TikTok's Display API reports no saves"


def post(platform: str, post_id: str, story: str | None) -> LivePost:
    return LivePost(platform, "main", post_id, story, 1, None, f"https://{platform}.test/{post_id}")


POSTS = [post("x", "a", "s1"), post("x", "b", "s2"), post("tiktok", "v", "s1"), post("x", "c", "s2")]
ROWS = [
    day_of(day=D1, post_id="a", measured={"views": 100, "likes": 10, "comments": 2, "shares": 1, "saves": 1}),
    day_of(day=D2, post_id="a", measured={"views": 50, "likes": 5, "comments": 1, "shares": 0, "saves": 0}),
    day_of(day=D2, post_id="b", lifetime={"views": 400, "likes": 20},
           as_of=datetime(2026, 3, 2, 20, tzinfo=UTC)),
    day_of(day=D1, platform="tiktok", post_id="v", reason=NO_SAVES,
           lifetime={"views": 1000, "likes": 100, "comments": 10, "shares": 5},
           as_of=datetime(2026, 3, 1, 23, tzinfo=UTC)),
    day_of(day=D2, platform="tiktok", post_id="v", reason=NO_SAVES,
           lifetime={"views": 1300, "likes": 130, "comments": 10, "shares": 10},
           as_of=datetime(2026, 3, 2, 23, tzinfo=UTC)),
    day_of(day=D2, post_id="c", reason="X keeps daily post analytics for 30 days"),
]  # fmt: skip


def test_post_figures_sum_daily_values_or_take_the_latest_lifetime_total() -> None:
    summary = summarise(ROWS, POSTS)
    by_id = {figures.post_id: figures for figures in summary.posts}
    assert [figures.post_id for figures in summary.posts] == ["b", "v", "a", "c"]  # most views first
    a = by_id["a"]
    assert (a.views, a.likes, a.comments, a.shares, a.saves, a.source) == (150, 15, 3, 1, 1, "daily")
    assert a.engagement_rate == pytest.approx(20 / 150)
    b = by_id["b"]
    assert (b.views, b.likes, b.comments, b.source) == (400, 20, None, "lifetime")
    assert b.engagement_rate == pytest.approx(20 / 400)
    v = by_id["v"]  # the second day is a derived delta; the first day's total cannot be split
    assert (v.views, v.likes, v.comments, v.shares, v.saves) == (300, 30, 0, 5, None)
    assert v.engagement_rate == pytest.approx(35 / 300)
    assert v.story_key == "s1" and v.url == "https://tiktok.test/v"
    c = by_id["c"]
    assert (c.views, c.engagement_rate, c.source, c.unavailable) == (None, None, None, 8)


def test_groups_per_platform_and_story_with_their_best_post() -> None:
    summary = summarise(ROWS, POSTS)
    platforms = {group.name: group for group in summary.platforms}
    assert list(platforms) == ["tiktok", "x"]
    x = platforms["x"]
    assert (x.posts, x.views, x.likes, x.comments) == (3, 550, 35, 3)
    assert x.engagement_rate == pytest.approx((35 + 3 + 1 + 1) / 550)
    assert x.best is not None and x.best.post_id == "b"
    stories = {group.name: group for group in summary.stories}
    assert stories["s1"].views == 450 and stories["s1"].best is not None
    assert stories["s1"].best.url == "https://tiktok.test/v"
    assert stories["s2"].posts == 2 and stories["s2"].views == 400
    assert summary.totals.views == 850 and summary.totals.posts == 4
    assert (summary.first, summary.last) == (D1, D2)


def test_nothing_stored_is_an_empty_summary_not_zeros() -> None:
    summary = summarise([], POSTS)
    assert summary.posts == [] and summary.platforms == []
    assert summary.totals.views is None and summary.totals.engagement_rate is None
    assert "no stored days" in summary_table(summary)
    assert summary_json(summary)["totals"]["views"] is None


def test_the_terminal_table_markdown_and_json() -> None:
    summary = summarise(ROWS, POSTS)
    table = summary_table(summary)
    lines = table.splitlines()
    assert lines[0] == "Post metrics, 2026-03-01 to 2026-03-02"
    assert lines[2].split() == [
        "platform", "posts", "views", "likes", "comments", "shares", "engagement", "unavailable",
        "best", "post",
    ]  # fmt: skip
    x_line = next(line for line in lines if line.startswith("x "))
    assert x_line.split() == ["x", "3", "550", "35", "3", "1", "7.3%", "20", "https://x.test/b"]
    assert any(line.startswith("s2 ") for line in lines)
    assert set(lines[3]) == {"-", " "}
    assert lines[2].index("views") + len("views") == x_line.index("550") + len("550")  # numbers right-aligned

    markdown = summary_markdown(summary, top=2).splitlines()
    assert markdown[0].startswith("| platform | story | post | views")
    assert len(markdown) == 4
    assert markdown[2].startswith("| x | s2 | [b](https://x.test/b) | 400 | 20 | - | - | 5.0% |")
    assert markdown[2].endswith("| lifetime |")
    assert markdown[3].startswith("| tiktok | s1 | [v](https://tiktok.test/v) | 300 |")

    data = summary_json(summary)
    assert json.loads(json.dumps(data)) == data
    assert data["first"] == "2026-03-01" and data["platforms"][1]["best"]["post_id"] == "b"
