"""`pellacia-dist manual list|export|resolve`: the operator's side of the manual queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pellacia_assets.cli import main
from pellacia_assets.manual_queue import send_to_manual
from pellacia_assets.settings import Settings
from resources.alerts.config import alerter_from_env
from resources.database.engine import open_database, transaction
from resources.database.models import LedgerEntry, QueuedPost
from resources.database.post_queue import enqueue
from resources.media_store.store import MediaStore
from sandbox.telegram import TelegramSandbox, telegram_sandbox
from tests.pellacia_assets.manual_stories import produce_story

STORY = "harbour-lights"


@pytest.fixture
def telegram(pellacia_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    with telegram_sandbox() as sandbox:
        for name, value in sandbox.env.items():
            monkeypatch.setenv(name, value)
        yield sandbox


def entries(make_video: Callable[..., Path]) -> tuple[int, int]:
    """A post that needs re-authorisation and a quarantined file, as the factory would have sent them."""
    settings = Settings.from_env()
    factory = open_database(settings.database_url)
    produce_story(factory, MediaStore(settings.media_dir), STORY, make_video)
    with transaction(factory) as session:
        [row] = enqueue(session, STORY, 1, [("youtube", "main")])
        row.state = "publishing"
        session.flush()
        queue_id = row.id
    alerter = alerter_from_env()
    post = send_to_manual(factory, alerter, "reauth", "youtube: invalid_grant", queue_id=queue_id)
    dropped = send_to_manual(
        factory,
        alerter,
        "quarantined",
        "storm.json: malformed JSON",
        source_path="/drop/quarantine/storm.mp4",
    )
    return post.id, dropped.id


def test_list_export_and_resolve_a_post_by_hand(
    telegram: TelegramSandbox,
    pellacia_home: Path,
    tmp_path: Path,
    make_video: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    post_id, file_id = entries(make_video)
    assert len(telegram.messages) == 2
    assert main(["manual", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{post_id}  open      reauth" in listed and "story 'harbour-lights' part 1 on youtube" in listed
    assert "quarantined" in listed and "file /drop/quarantine/storm.mp4" in listed
    assert main(["manual", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)["entries"]
    assert [(e["id"], e["reason"], e["platform"]) for e in listing] == [
        (post_id, "reauth", "youtube"),
        (file_id, "quarantined", None),
    ]

    assert main(["manual", "export", "--id", str(post_id)]) == 0
    folder = pellacia_home / "manual" / str(post_id)
    assert str(folder) in capsys.readouterr().out
    assert {path.name for path in folder.iterdir()} == {"INSTRUCTIONS.md", "post.txt", f"{STORY}-part-1.mp4"}
    assert main(["manual", "export", "--id", str(file_id), "--to", str(tmp_path / "storm")]) == 0
    assert (tmp_path / "storm" / "INSTRUCTIONS.md").is_file()
    capsys.readouterr()

    url = "https://www.youtube.com/shorts/Hand1234"
    assert main(["manual", "resolve", "--id", str(post_id), "--post-url", url, "--json"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert (resolved["status"], resolved["resolved_url"]) == ("resolved", url)
    assert telegram.messages[-1]["text"].startswith(
        "Pellacia: resolved manual reauth (harbour-lights on youtube)"
    )
    with transaction(open_database(Settings.from_env().database_url)) as session:
        ledger = session.scalars(select(LedgerEntry)).one()
        assert (ledger.state, ledger.post_id, ledger.url) == ("published", "Hand1234", url)
        assert session.scalars(select(QueuedPost)).one().state == "published"

    assert main(["manual", "resolve", "--id", str(file_id)]) == 0
    assert "handled" in capsys.readouterr().out
    assert len(telegram.messages) == 4  # two alerts, two resolved messages
    assert main(["manual", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no open manual entries"
    assert main(["manual", "list", "--all", "--json"]) == 0
    assert {e["status"] for e in json.loads(capsys.readouterr().out)["entries"]} == {"resolved"}


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--post-url", "https://www.youtube.com/shorts/Again1"], "is already resolved"),
        (["--id", "999", "--post-url", "https://youtu.be/x1"], "no manual entry with id 999"),
    ],
)
def test_commands_that_cannot_apply_say_why_in_one_line(
    pellacia_home: Path,
    make_video: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    said: str,
) -> None:
    post_id, _file_id = entries(make_video)
    assert main(["manual", "resolve", "--id", str(post_id), "--post-url", "https://youtu.be/First1"]) == 0
    capsys.readouterr()
    command = [
        "manual",
        "resolve",
        *(arguments if "--id" in arguments else ["--id", str(post_id), *arguments]),
    ]
    assert main(command) == 2
    error = capsys.readouterr().err
    assert said in error and error.count("\n") == 1 and error.startswith("pellacia-dist: ")


def test_a_post_needs_its_url_and_a_valid_one(
    pellacia_home: Path, make_video: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    post_id, _file_id = entries(make_video)
    assert main(["manual", "resolve", "--id", str(post_id)]) == 2
    assert "give --post-url" in capsys.readouterr().err
    assert main(["manual", "resolve", "--id", str(post_id), "--post-url", "youtube.com/shorts/x"]) == 2
    assert "is not a post URL" in capsys.readouterr().err
    assert main(["manual", "export", "--id", "42"]) == 2
    assert "no manual entry with id 42" in capsys.readouterr().err
    assert main(["manual", "list"]) == 0
    assert f"{post_id}  open" in capsys.readouterr().out
