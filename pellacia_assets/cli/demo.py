"""`pellacia-dist demo`: the bundled sample stories, produced and published to the local platform sandbox."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pellacia_assets.cli.production import JobOutcome, add_story, prepare, produce, run_job, video_files
from pellacia_assets.settings import Settings
from resources.platforms import PLATFORMS

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "stories" / "samples"
SANDBOX_ACCOUNT = "sandbox"


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.platforms import platform_sandboxes

    prepare(settings)
    print(f"Pellacia demo: producing the bundled sample stories into {settings.home}")
    keys = [add_story(settings, path) for path in sorted(SAMPLES_DIR.iterdir()) if path.is_file()]
    produced = produce(keys)
    published: list[JobOutcome] = []
    ready = [outcome.key for outcome in produced if outcome.ok]
    if ready and not args.no_publish:
        with platform_sandboxes(settings.home / "sandbox", processing_polls=0) as suite:
            _use_sandbox(settings, suite.env)
            print(
                "\n=== publishing to the LOCAL PLATFORM SANDBOX (127.0.0.1: nothing leaves this machine) ==\n"
                "The clients are the real ones; only their base URLs point at local sandboxes."
            )
            published = run_job("publishing", ready, "publishing")
    _summary(settings, produced, published)
    return 0 if all(outcome.ok for outcome in produced + published) else 1


def _use_sandbox(settings: Settings, env: dict[str, str]) -> None:
    """Point every platform at its sandbox under the account 'sandbox', with fresh tokens."""
    from resources.database.engine import open_database
    from resources.platforms.credentials import DatabaseCredentialStore

    os.environ.update(env)
    for platform in PLATFORMS:
        os.environ[f"PELLACIA_{platform.upper()}_ACCOUNT"] = SANDBOX_ACCOUNT
    if not os.environ.get("PELLACIA_SECRET_KEY", "").strip():
        os.environ["PELLACIA_SECRET_KEY"] = _demo_key(settings.home / "demo-secret.key")
    store = DatabaseCredentialStore(open_database(settings.database_url))
    for platform in PLATFORMS:
        store.forget(platform, SANDBOX_ACCOUNT)  # tokens of an earlier sandbox run are meaningless now


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
