"""`pellacia-dist test vpn [--platform P] [--json]`: every VPN/proxy exit, up or down, its latency, and
which platform hosts answer through it.

Each exit is checked against the configured roots of the platforms it carries (only P's with
`--platform`), all exits at once; an exit still backing off after a failure in the factory says until
when. Proxy credentials are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pellacia_assets.cli.alerts import SubCommands, test_commands
from pellacia_assets.settings import Settings
from resources.platforms import PLATFORMS, UnknownPlatformError, platform_named
from resources.platforms.exits import (
    OK,
    PROXIES_FILE_VARIABLE,
    Exit,
    ExitConfigError,
    ExitRecord,
    all_exits,
    check_exit,
    exits_for,
    host_of,
    platform_roots,
    pool_from_env,
    proxies_variable,
)

DEFAULT_TIMEOUT_S = 5.0


def register(commands: SubCommands) -> None:
    """Add `test vpn` to the `pellacia-dist` parser (see `cli.build_parser`)."""
    vpn = test_commands(commands).add_parser(
        "vpn", help="check every VPN/proxy exit: up or down, latency, which platform hosts answer through it"
    )
    vpn.add_argument("--platform", help="only the exits of this platform, checked against its hosts")
    vpn.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds to wait for each answer (default 5)"
    )
    vpn.add_argument("--json", action="store_true", help="print each exit's health as JSON")
    vpn.set_defaults(handler=cmd_test_vpn)


def cmd_test_vpn(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when every exit is up, 1 when one is down, 2 when none is configured (or cannot be)."""
    try:
        platform = platform_named(args.platform) if args.platform else None
        exits = exits_for(platform) if platform else all_exits()
    except (ExitConfigError, UnknownPlatformError) as error:
        return _refused(str(error))
    if not exits:
        variables = proxies_variable(platform) if platform else "PELLACIA_<PLATFORM>_PROXIES"
        return _refused(f"no VPN/proxy exit is configured: set {variables} or {PROXIES_FILE_VARIABLE}")
    records = pool_from_env(settings.home).records()
    with ThreadPoolExecutor(max_workers=len(exits)) as executor:
        reports = list(executor.map(lambda exit: _report(exit, platform, args.timeout, records), exits))
    if args.json:
        print(json.dumps({"exits": reports}, indent=2))
    else:
        for report in reports:
            print(_text(report))
    return 0 if all(report["up"] for report in reports) else 1


def _report(
    exit: Exit, platform: str | None, timeout_s: float, records: dict[str, ExitRecord]
) -> dict[str, Any]:
    platforms = [platform] if platform else [p for p in PLATFORMS if exit.serves(p)]
    roots = {p: platform_roots(p) for p in platforms}
    health = check_exit(exit, [root for p in platforms for root in roots[p]], timeout_s)
    record = records.get(exit.name)
    backoff = None
    if record is not None and record.failures:
        retry_at = datetime.fromtimestamp(record.retry_at, UTC).isoformat(timespec="seconds")
        backoff = {"failures": record.failures, "retry_at": retry_at, "reason": record.reason}
    return {
        "name": exit.name,
        "url": exit.safe_url,
        "country": exit.country,
        "up": health.up,
        "latency_ms": health.latency_ms,
        "error": health.error,
        "platforms": {p: _platform(roots[p], health.hosts) for p in platforms},
        "hosts": health.hosts,
        "backoff": backoff,
    }


def _platform(roots: list[str], answers: dict[str, str]) -> dict[str, Any]:
    hosts = list(dict.fromkeys(host_of(root) for root in roots))
    return {"answers": all(answers[host] == OK for host in hosts), "hosts": hosts}


def _text(report: dict[str, Any]) -> str:
    """The exit's line, then one per platform: answering through it or not, and its hosts."""
    where = f" [{report['country']}]" if report["country"] else ""
    latency = f", {report['latency_ms']:.0f} ms" if report["latency_ms"] is not None else ""
    head = f"{report['name']}{where} ({report['url']}): {'up' if report['up'] else 'down'}{latency}"
    lines = [head if report["up"] else f"{head}: {report['error']}"]
    for platform, answer in report["platforms"].items():
        verdict = "answers" if answer["answers"] else "does not answer"
        lines.append(f"  {platform}: {verdict} ({', '.join(answer['hosts'])})")
    if report["backoff"]:
        backoff = report["backoff"]
        lines.append(f"  skipped by the factory until {backoff['retry_at']} ({backoff['reason']})")
    return "\n".join(lines)


def _refused(reason: str) -> int:
    print(f"pellacia-dist: {reason}", file=sys.stderr)
    return 2
