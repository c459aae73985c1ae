"""`pellacia-dist demo`: the bundled sample stories, produced and published to the local platform sandbox,
then the posting queue spacing two shorts on a gap of a few seconds."""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.cli.production import (
    JobOutcome,
    add_story,
    prepare,
    produce,
    run_job,
    settle_queue,
    video_files,
)
from pellacia_assets.cli.serve import ServeError, running_serve
from pellacia_assets.settings import Settings
from resources.platforms import PLATFORMS

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "stories" / "samples"
SANDBOX_ACCOUNT = "sandbox"
# The queue at work: two shorts in a row to two platforms, under a sandbox account of their own (nothing
# posted there yet, so the first goes out at once), on a gap of a few seconds without jitter.
SPACING_ACCOUNT = "sandbox-spacing"
SPACING_PLATFORMS = ("youtube", "x")
SPACING_GAP_S = 3


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.platforms import platform_sandboxes

    address = running_serve(settings)
    if address is not None:
        raise ServeError(
            f"`pellacia-dist serve` runs on {settings.home} ({address}) and would send the demo's queued "
            "posts with its own settings; stop it, or run the demo with another PELLACIA_HOME"
        )
    prepare(settings)
    _set_accounts(PLATFORMS, SANDBOX_ACCOUNT)  # before producing: the video asset queues posts for them
    print(f"Pellacia demo: producing the bundled sample stories into {settings.home}")
    keys = [add_story(settings, path) for path in sorted(SAMPLES_DIR.iterdir()) if path.is_file()]
    produced = produce(keys)
    published: list[JobOutcome] = []
    ready = [outcome.key for outcome in produced if outcome.ok]
    spaced = True
    if ready and not args.no_publish:
        with platform_sandboxes(settings.home / "sandbox", processing_polls=0) as suite:
            _use_sandbox(settings, suite.env)
            os.environ["PELLACIA_POST_GAP_SECONDS"] = "0"
            os.environ["PELLACIA_POST_JITTER_SECONDS"] = "0"
            print(
                "\n=== publishing to the LOCAL PLATFORM SANDBOX (127.0.0.1: nothing leaves this machine) ==\n"
                "The clients are the real ones; only their base URLs point at local sandboxes.\n"
                "The spacing gap between two posts on one account is SWITCHED OFF for this part "
                "(PELLACIA_POST_GAP_SECONDS=0): every short goes out at once."
            )
            published = run_job("publishing", ready, "publishing")
            settle_queue(settings, ready)
            spaced = _show_spacing(settings, ready)
            _show_analytics(settings)
    _summary(settings, produced, published)
    return 0 if all(outcome.ok for outcome in produced + published) and spaced else 1


def _set_accounts(platforms: Sequence[str], account: str) -> None:
    for platform in platforms:
        os.environ[f"PELLACIA_{platform.upper()}_ACCOUNT"] = account


def _use_sandbox(settings: Settings, env: dict[str, str]) -> None:
    """Point every platform at its sandbox under the account 'sandbox', with fresh tokens."""
    os.environ.update(env)
    _set_accounts(PLATFORMS, SANDBOX_ACCOUNT)
    if not os.environ.get("PELLACIA_SECRET_KEY", "").strip():
        os.environ["PELLACIA_SECRET_KEY"] = _demo_key(settings.home / "demo-secret.key")
    _forget_tokens(settings, PLATFORMS, SANDBOX_ACCOUNT)


def _forget_tokens(settings: Settings, platforms: Sequence[str], account: str) -> None:
    """Tokens stored by an earlier sandbox run are meaningless to the sandboxes started now."""
    from resources.database.engine import open_database
    from resources.platforms.credentials import DatabaseCredentialStore

    store = DatabaseCredentialStore(open_database(settings.database_url))
    for platform in platforms:
        store.forget(platform, account)


def _show_spacing(settings: Settings, keys: Sequence[str]) -> bool:
    """Two shorts uploaded in a row to two platforms on a gap of a few seconds: the first goes out at
    once, the second waits in the queue for each account's slot and goes out then, as `upload --wait`
    does without `serve`. Returns whether every post went out."""
    from pellacia_assets.posting.policy import PostingPolicy
    from pellacia_assets.publishing import (
        Paths,
        publish_file,
        publish_when_due,
        queue_upload,
        upload_request,
    )
    from resources.database.engine import open_database

    produced = [video_files(settings, key)[0] for key in keys][:2]
    if len(produced) < 2:
        return True
    shorts = [_own_copy(video, settings.home / "demo-spacing", n) for n, video in enumerate(produced, 1)]
    os.environ["PELLACIA_POST_GAP_SECONDS"] = str(SPACING_GAP_S)
    _set_accounts(SPACING_PLATFORMS, SPACING_ACCOUNT)
    _forget_tokens(settings, SPACING_PLATFORMS, SPACING_ACCOUNT)
    policy = PostingPolicy.from_env()
    factory = open_database(settings.database_url)
    print(
        f"\n=== the posting queue at work: a gap of {SPACING_GAP_S} s between two posts on one account ===\n"
        f"Two shorts in a row to {' and '.join(SPACING_PLATFORMS)}, under a second sandbox account "
        f"('{SPACING_ACCOUNT}'; PELLACIA_POST_GAP_SECONDS={SPACING_GAP_S}, no jitter). The first goes out "
        "at once; the second is queued for each account's next slot and goes out then."
    )
    ok = True
    for number, video in enumerate(shorts, start=1):
        request = upload_request(video, f"Pellacia demo: spacing, short {number}", log=_quiet)
        targets = queue_upload(factory, request, SPACING_PLATFORMS, policy)
        for target in targets:
            slot = (
                f"queued for {_clock(target.slot)} ({target.reason})" if target.waits else "its slot is open"
            )
            print(f"  short {number} -> {target.platform:8} {slot}")
        now = [target for target in targets if not target.waits]
        later = [target for target in targets if target.waits]
        paths = Paths(settings.database_url, settings.home)
        results = publish_file(paths, request, now, _quiet)
        results += publish_when_due(paths, request, later, policy, log=_quiet)
        for result in results:
            went = _went_out(factory, request.story_key, result.platform)
            detail = result.url or result.error
            print(f"  short {number} -> {result.platform:8} {result.status} at {went}: {detail}")
            ok = ok and result.status == "published"
    return ok


def _show_analytics(settings: Settings) -> None:
    """Today's snapshot of every post just made, stored with its provenance, and the summary."""
    from pellacia_assets.analytics.summary import summary_table
    from pellacia_assets.cli.analytics import collect_days, summarise_range

    today = datetime.now(UTC).date()
    print("\n=== analytics: today's snapshot of every post, each value with where it came from ===")
    collect_days(settings, PLATFORMS, lambda _platform: [today], log=print)
    summary, chart = summarise_range(settings, PLATFORMS, today, today)
    print(summary_table(summary))
    print(f"chart: {chart}")
    print(
        "(`pellacia-dist analytics history --platform P --post-id ID --json` shows each value's provenance)"
    )


def _own_copy(video: Path, folder: Path, number: int) -> Path:
    """The short as a file of its own (a stream copy with its own title tag): the sandboxes refuse a video
    they were sent already, as YouTube does, and these shorts went out in the first part."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"short-{number}.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-map", "0", "-c", "copy", "-metadata",
         f"title=Pellacia demo: spacing, short {number}", "-movflags", "+faststart", str(target)],
        check=True,
    )  # fmt: skip
    return target


def _went_out(factory: sessionmaker[Session], key: str, platform: str) -> str:
    """When the ledger says the post went live (part 1 of an uploaded file)."""
    from resources.database.ledger import entries_for
    from resources.database.models import as_utc

    moments = [
        as_utc(entry.published_at) for entry in entries_for(factory, key, platform) if entry.published_at
    ]
    return _clock(moments[0]) if moments else "never"


def _quiet(_line: str) -> None:
    """The spacing part prints its own lines, not each upload's progress."""


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]


def _demo_key(path: Path) -> str:
    """The demo's own credential key (production sets PELLACIA_SECRET_KEY itself)."""
    from cryptography.fernet import Fernet

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _summary(settings: Settings, produced: list[JobOutcome], published: list[JobOutcome]) -> None:
    from resources.database.engine import open_database
    from resources.database.ledger import entries_for

    factory = open_database(settings.database_url)
    posted = {outcome.key: outcome for outcome in published}
    print("\n=== results ===")
    for outcome in produced:
        print(f"  {'OK    ' if outcome.ok else 'FAILED'} {outcome.key}: {outcome.detail}")
        for video in video_files(settings, outcome.key) if outcome.ok else []:
            print(f"      video: {video}")
        if outcome.key in posted:
            result = posted[outcome.key]
            print(f"      sandbox publishing: {'OK' if result.ok else 'FAILED'} ({result.detail})")
            for platform in PLATFORMS:
                for entry in entries_for(factory, outcome.key, platform):
                    where = entry.url or entry.last_error or ""
                    print(f"      {platform:9} part {entry.part}: {entry.state:9} {where}")
    print(
        "\nOpen the Dagster UI on these results:\n"
        f"  PELLACIA_HOME={settings.home} .venv/bin/pellacia-dist serve   # then http://127.0.0.1:3000/assets"
    )
