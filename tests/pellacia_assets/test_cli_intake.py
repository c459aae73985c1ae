"""`pellacia-dist story approve|reject|list --pending`, the approval gate on `produce`, `sources poll`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.intake import admit


@pytest.fixture
def pending(pellacia_home: Path) -> list[str]:
    factory = open_database(Settings.from_env().database_url)
    keys = ["reddit-t3_one", "reddit-t3_two"]
    with transaction(factory) as session:
        for key in keys:
            record = SourceRecord(
                key=key, source_kind="reddit", source_ref=key, title=f"About {key}", body="B."
            )
            admit(session, record, approval="pending")
    return keys


def test_an_editor_approves_and_rejects_from_the_command_line(
    pending: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["story", "list", "--pending"]) == 0
    listed = capsys.readouterr().out
    assert "reddit-t3_one" in listed and "pending" in listed
    assert main(["story", "approve", "reddit-t3_one"]) == 0
    assert "approved reddit-t3_one" in capsys.readouterr().out
    assert main(["story", "approve", "reddit-t3_one"]) == 2
    assert "story 'reddit-t3_one' is already approved; nothing was changed" in capsys.readouterr().err
    assert main(["story", "reject", "reddit-t3_two", "--reason", "off topic", "--json"]) == 0
    rejected = json.loads(capsys.readouterr().out)
    assert (rejected["approval"], rejected["approval_note"], rejected["approval_by"]) == (
        "rejected",
        "off topic",
        "cli",
    )
    assert main(["story", "list", "--pending", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["story", "approve", "no-such-story"]) == 2
    assert "no story 'no-such-story'" in capsys.readouterr().err


def test_produce_refuses_a_story_no_editor_approved(
    pending: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["produce", "reddit-t3_one"]) == 2
    err = capsys.readouterr().err
    assert "waiting for approval: `pellacia-dist story approve reddit-t3_one`" in err
    assert main(["story", "reject", "reddit-t3_two", "--reason", "duplicate of another"]) == 0
    assert main(["produce", "reddit-t3_two"]) == 2
    assert "was rejected by an editor" in capsys.readouterr().err


def test_sources_poll_names_what_is_not_configured(
    pellacia_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("PELLACIA_REDDIT_SUBREDDITS", "PELLACIA_REDDIT_CLIENT_ID", "PELLACIA_FEEDS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["sources", "poll", "--json"]) == 0
    results = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    assert not results["reddit"]["configured"] and "PELLACIA_REDDIT_" in results["reddit"]["reason"]
    assert not results["feeds"]["configured"] and "PELLACIA_FEEDS" in results["feeds"]["reason"]
    assert main(["sources", "poll", "--source", "feeds"]) == 2
    assert "PELLACIA_FEEDS" in capsys.readouterr().err
