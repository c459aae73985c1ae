"""The inbox sensor: dropped story files become partitions and runs; refused files are kept with a reason."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pellacia_assets.settings import Settings
from resources.database.resource import DatabaseResource
from sensors.story_inbox import story_inbox


def test_new_files_become_partitions_and_runs_and_bad_ones_are_kept(pellacia_home: Path) -> None:
    inbox = pellacia_home / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "Good story.md").write_text("# A good story\n\nIt has a body.\n")
    (inbox / "urgent.json").write_text(
        '{"title": "Flood", "body": "The river rose.", "priority": "breaking"}'
    )
    (inbox / "broken.json").write_text('{"title": ')
    (inbox / "notes.pdf").write_bytes(b"%PDF")
    database = DatabaseResource(url=Settings.from_env().database_url)
    with dg.instance_for_test() as instance:
        result = story_inbox(dg.build_sensor_context(instance=instance, resources={"database": database}))
        assert isinstance(result, dg.SensorResult)
        assert sorted(str(request.partition_key) for request in result.run_requests or []) == [
            "file-good-story",
            "file-urgent",
        ]
        priorities = {r.partition_key: r.tags["dagster/priority"] for r in result.run_requests or []}
        assert priorities == {"file-good-story": "0", "file-urgent": "10"}
        [added] = result.dynamic_partitions_requests or []
        assert sorted(added.partition_keys or []) == ["file-good-story", "file-urgent"]
        assert sorted(p.name for p in (inbox / "accepted").iterdir()) == ["Good story.md", "urgent.json"]
        error = (inbox / "rejected" / "broken.json.error.txt").read_text()
        assert "malformed JSON at line 1" in error
        assert (inbox / "notes.pdf").exists()  # not a story file type: left alone
        again = story_inbox.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources={"database": database})
        )
        assert again.run_requests == [] and again.skip_message and "no story files" in again.skip_message
