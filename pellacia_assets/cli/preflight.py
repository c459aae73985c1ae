"""How `upload ... --test` shows its dry run (pellacia_assets/preflight.py): one block per platform, a line
per check (✓ passed, ✗ failed, – skipped), or the same as JSON; nothing was posted either way."""

from __future__ import annotations

import json
from dataclasses import asdict

from pellacia_assets.preflight import Check

MARKS = {True: "✓", False: "✗", None: "–"}


def print_preflight(results: dict[str, list[Check]], as_json: bool) -> int:
    """Print each platform's checks; 0 when every check passed or was skipped, 1 when one failed."""
    if as_json:
        print(
            json.dumps(
                {platform: [asdict(check) for check in checks] for platform, checks in results.items()},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for platform, checks in results.items():
            failed = sum(check.ok is False for check in checks)
            verdict = "ready" if not failed else f"{failed} check{'s' if failed > 1 else ''} failed"
            print(f"{platform}: {verdict}")
            width = max((len(check.name) for check in checks), default=0)
            for check in checks:
                print(f"  {MARKS[check.ok]} {check.name.ljust(width)}  {check.detail}")
        print("dry run: nothing was posted")
    return 1 if any(check.ok is False for checks in results.values() for check in checks) else 0
