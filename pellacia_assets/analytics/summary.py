"""How the posts did over a range of days, per platform and per story: what `analytics summary` prints and
the `post_metrics` materialisation shows.

A post's views (likes, comments, shares, saves alike) are the sum of its days' measured or derived values;
a post with only lifetime totals (a snapshot but no day before it) counts its latest total instead, and
says so (`source`). Engagement rate is (likes + comments + shares + saves) / views over the metrics known;
None where views are unknown. Unknown stays unknown: a metric no day has a figure for is None, not 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from pellacia_assets.analytics.series import DAILY, SeriesDay, by_post
from pellacia_assets.analytics.snapshot import UNAVAILABLE, DaySnapshot, LivePost

SUMMED = ("views", "likes", "comments", "shares", "saves")
ENGAGEMENT = ("likes", "comments", "shares", "saves")


@dataclass(frozen=True)
class PostFigures:
    """One post over the range. `source`: "daily" (summed day values), "lifetime" (the latest total) or
    None (no views known); `unavailable`: metric-days without a value."""

    platform: str
    account: str
    post_id: str
    story_key: str | None
    part: int
    url: str | None
    views: float | None
    likes: float | None
    comments: float | None
    shares: float | None
    saves: float | None
    engagement_rate: float | None
    source: str | None
    days: int
    unavailable: int


@dataclass(frozen=True)
class GroupFigures:
    """A platform, a story or everything: sums over its posts (None where no post knows the metric)."""

    name: str
    posts: int
    views: float | None
    likes: float | None
    comments: float | None
    shares: float | None
    saves: float | None
    engagement_rate: float | None
    best: PostFigures | None
    unavailable: int


@dataclass(frozen=True)
class Summary:
    first: date | None
    last: date | None
    totals: GroupFigures
    platforms: list[GroupFigures]
    stories: list[GroupFigures]
    posts: list[PostFigures]  # most views first


def _metric(days: Sequence[SeriesDay], metric: str) -> tuple[float | None, str | None]:
    daily = [d.metrics[metric] for d in days if d.provenance[metric] in DAILY]
    if daily:
        return sum(value for value in daily if value is not None), "daily"
    totals = [d.metrics[metric] for d in days if d.provenance[metric] == "lifetime"]
    if totals:
        return totals[-1], "lifetime"
    return None, None


def _rate(views: float | None, engaged: Sequence[float | None]) -> float | None:
    known = [value for value in engaged if value is not None]
    if views is None or views <= 0 or not known:
        return None
    return sum(known) / views


def _post(snapshot: DaySnapshot, post: LivePost | None, days: list[SeriesDay]) -> PostFigures:
    figures = {metric: _metric(days, metric) for metric in SUMMED}
    views = figures["views"][0]
    return PostFigures(
        platform=snapshot.platform,
        account=snapshot.account,
        post_id=snapshot.post_id,
        story_key=post.story_key if post is not None else snapshot.story_key,
        part=post.part if post is not None else snapshot.part,
        url=post.url if post is not None else None,
        views=views,
        likes=figures["likes"][0],
        comments=figures["comments"][0],
        shares=figures["shares"][0],
        saves=figures["saves"][0],
        engagement_rate=_rate(views, [figures[metric][0] for metric in ENGAGEMENT]),
        source=figures["views"][1],
        days=len(days),
        unavailable=sum(d.provenance[m] == UNAVAILABLE for d in days for m in d.provenance),
    )


def _sum(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _group(name: str, posts: Sequence[PostFigures]) -> GroupFigures:
    with_views = [post for post in posts if post.views is not None]
    views = _sum([post.views for post in with_views])
    engaged = [_sum([getattr(post, metric) for post in with_views]) for metric in ENGAGEMENT]
    return GroupFigures(
        name=name,
        posts=len(posts),
        views=views,
        likes=_sum([post.likes for post in posts]),
        comments=_sum([post.comments for post in posts]),
        shares=_sum([post.shares for post in posts]),
        saves=_sum([post.saves for post in posts]),
        engagement_rate=_rate(views, engaged),
        best=max(with_views, key=lambda post: post.views or 0, default=None),
        unavailable=sum(post.unavailable for post in posts),
    )


def summarise(snapshots: Sequence[DaySnapshot], posts: Sequence[LivePost]) -> Summary:
    """The figures of every post with stored days in `snapshots`; `posts` (the ledger's live posts) give
    their stories and URLs."""
    known = {(post.platform, post.post_id): post for post in posts}
    first_row: dict[tuple[str, str], DaySnapshot] = {}
    for row in snapshots:
        first_row.setdefault((row.platform, row.post_id), row)
    figures = [
        _post(first_row[key], known.get(key), days) for key, days in sorted(by_post(snapshots).items())
    ]
    figures.sort(key=lambda post: (post.views is None, -(post.views or 0), post.platform, post.post_id))
    per_platform: dict[str, list[PostFigures]] = defaultdict(list)
    per_story: dict[str, list[PostFigures]] = defaultdict(list)
    for post in figures:
        per_platform[post.platform].append(post)
        per_story[post.story_key or "(no story)"].append(post)
    days = [row.day for row in snapshots]
    return Summary(
        first=min(days, default=None),
        last=max(days, default=None),
        totals=_group("all", figures),
        platforms=[_group(name, group) for name, group in sorted(per_platform.items())],
        stories=[_group(name, group) for name, group in sorted(per_story.items())],
        posts=figures,
    )


def _count(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _best(post: PostFigures | None) -> str:
    if post is None:
        return "-"
    return post.url or f"{post.platform} {post.post_id}"


def _aligned(header: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)]


def _group_rows(groups: Sequence[GroupFigures]) -> list[list[str]]:
    return [
        [
            group.name,
            str(group.posts),
            _count(group.views),
            _count(group.likes),
            _count(group.comments),
            _count(group.shares),
            _percent(group.engagement_rate),
            str(group.unavailable),
            _best(group.best),
        ]
        for group in groups
    ]


def summary_table(summary: Summary) -> str:
    """A fixed-width terminal table: per platform, then per story, then all together."""
    columns = ["posts", "views", "likes", "comments", "shares", "engagement", "unavailable", "best post"]
    numeric = {1, 2, 3, 4, 5, 6, 7}
    span = f"{summary.first} to {summary.last}" if summary.first is not None else "no stored days"
    lines = [f"Post metrics, {span}", ""]
    lines += _aligned(["platform", *columns], _group_rows([*summary.platforms, summary.totals]), numeric)
    lines += [""]
    lines += _aligned(["story", *columns], _group_rows(summary.stories), numeric)
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(summary: Summary, top: int = 10) -> str:
    """A markdown table of the `top` posts by views (the UI's materialisation metadata)."""
    header = ["platform", "story", "post", "views", "likes", "comments", "shares", "engagement", "views from"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for post in summary.posts[:top]:
        label = _cell(post.post_id)
        link = f"[{label}]({post.url})" if post.url else label
        cells = [
            post.platform,
            _cell(post.story_key or "-"),
            link,
            _count(post.views),
            _count(post.likes),
            _count(post.comments),
            _count(post.shares),
            _percent(post.engagement_rate),
            post.source or "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if not summary.posts:
        lines.append("| " + " | ".join(["-"] * len(header)) + " |")
    return "\n".join(lines)


def summary_json(summary: Summary) -> dict[str, Any]:
    """The summary as plain JSON values (dates as YYYY-MM-DD)."""
    data = asdict(summary)
    data["first"] = summary.first.isoformat() if summary.first is not None else None
    data["last"] = summary.last.isoformat() if summary.last is not None else None
    return data
