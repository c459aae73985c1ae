"""`post_metrics` on the sandboxes: a day x platform partition collects every live post of the platform,
stores it with its provenance, and shows the top posts, the chart and numbers the UI plots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from pellacia_assets.assets.analytics import days_by_platform, post_metrics
from pellacia_assets.cli import main
from pellacia_assets.definitions import build_resources
from pellacia_assets.settings import Settings
from resources.database.engine import open_database
from resources.database.metrics import live_posts, snapshots
from sandbox.platforms import SandboxSuite


def test_the_run_s_partitions_group_into_days_per_platform() -> None:
    keys = [
        dg.MultiPartitionKey({"day": "2026-12-02", "platform": "x"}),
        dg.MultiPartitionKey({"day": "2026-12-01", "platform": "x"}),
        dg.MultiPartitionKey({"day": "2026-12-01", "platform": "tiktok"}),
    ]
    assert days_by_platform(keys) == {
        "tiktok": [date(2026, 12, 1)],
        "x": [date(2026, 12, 1), date(2026, 12, 2)],
    }
    assert days_by_platform(["2026-12-03|youtube"]) == {"youtube": [date(2026, 12, 3)]}


def test_a_partition_collects_stores_and_shows_the_platform_s_posts(
    sandboxes: SandboxSuite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video = make_video(tmp_path / "short.mp4")
    code = main(["upload", "--platforms", "tiktok,x", "--file", str(video), "--title", "Measured", "--json"])
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    settings = Settings.from_env()
    factory = open_database(settings.database_url)
    [post] = live_posts(factory, "tiktok")
    today = datetime.now(UTC).date()
    partition = dg.MultiPartitionKey({"day": today.isoformat(), "platform": "tiktok"})

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [post_metrics], partition_key=partition, resources=build_resources(settings), instance=instance
        )
        assert result.success
        [materialization] = result.asset_materializations_for_node("post_metrics")
        metadata = materialization.metadata
        views = sandboxes.servers["tiktok"].video_object(post.post_id)["view_count"]  # type: ignore[attr-defined]
        assert metadata["views"].value == views
        assert metadata["snapshots"].value == 1 and metadata["throttled"].value == 0
        assert post.post_id in str(metadata["top_posts"].value)
        assert str(metadata["chart"].value).startswith("![post_metrics-")
        assert "data:image/png;base64," in str(metadata["chart"].value)
        assert Path(str(metadata["chart_file"].value)).read_bytes().startswith(b"\x89PNG")
        [row] = snapshots(factory, platform="tiktok")
        assert (row.post_id, row.day, row.provenance["views"], row.values["views"]) == (
            post.post_id, today, "lifetime", views,
        )  # fmt: skip
        assert snapshots(factory, platform="x") == [], "only the partition's platform is collected"

        again = dg.materialize(
            [post_metrics], partition_key=partition, resources=build_resources(settings), instance=instance
        )
        [second] = again.asset_materializations_for_node("post_metrics")
        header, _rule, cells = str(second.metadata["runs"].value).splitlines()
        row_of = dict(zip(header.strip("| ").split(" | "), cells.strip("| ").split(" | "), strict=True))
        assert (row_of["platform"], row_of["written"], row_of["unchanged"]) == ("tiktok", "0", "1")
        assert snapshots(factory, platform="tiktok") == [row]

        unused = dg.MultiPartitionKey({"day": today.isoformat(), "platform": "facebook"})
        monkeypatch.delenv("PELLACIA_FACEBOOK_ACCESS_TOKEN")  # an unused platform, never authorised
        monkeypatch.delenv("PELLACIA_FACEBOOK_REFRESH_TOKEN")
        quiet = dg.materialize(
            [post_metrics], partition_key=unused, resources=build_resources(settings), instance=instance
        )
        [nothing] = quiet.asset_materializations_for_node("post_metrics")
        assert quiet.success and nothing.metadata["snapshots"].value == 0, (
            "a platform without posts is no failure"
        )
