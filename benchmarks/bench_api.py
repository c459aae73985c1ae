"""The REST API under load: requests per second and latency (p50, p99) of `GET /stories` and `GET /health`
with 10,000 stories in the app database, on SQLite and on PostgreSQL.

For each backend a real `pellacia-dist api` (uvicorn, one process) serves a fresh home; the client is
httpx with a few concurrent workers (threads, one keep-alive connection each) on the same machine, so
client and server share its CPUs, as a dashboard on the same host would. Every request must answer 200.

- SQLite: the app database and the Dagster instance are files under the home (the embedded default).
- PostgreSQL: a fresh database on the server at PELLACIA_TEST_POSTGRES (default 127.0.0.1:5432, trust
  auth) named PELLACIA_POSTGRES_URL, as production configures it: the app tables in their `pellacia`
  schema, Dagster's storage beside them; dropped afterwards.

The stories are pending Reddit stories with ~1.5 kB bodies. The daemon's heartbeats are written before each
/health run (as `dagster-daemon` writes them), so /health answers 200 and does its full work: the app
database, the Dagster instance's heartbeat table and the disk.

    python benchmarks/bench_api.py [--stories 10000] [--workers 4] [--seconds 10]
        [--backends sqlite,postgresql] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PELLACIA_DIST = str(Path(sys.executable).parent / "pellacia-dist")
TOKEN = "bench-token-" + uuid.uuid4().hex
ENDPOINTS = {
    "GET /stories": "/stories",
    "GET /stories?approval=pending&q=harbour": "/stories?approval=pending&q=harbour",
    "GET /health": "/health",
}
BODY = (
    "The harbour lights had been dark for forty years when the new keeper climbed the tower. " * 17
).strip()


@dataclass
class Result:
    backend: str
    endpoint: str
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    import psycopg2
    from psycopg2 import sql

    host, _, port = os.environ.get("PELLACIA_TEST_POSTGRES", "127.0.0.1:5432").partition(":")
    server = f"postgresql://postgres@{host}:{port or 5432}"
    name = f"pellacia_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{server}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def seed(database_url: str, count: int) -> None:
    """`count` pending stories, inserted in batches (what 10,000 admissions leave in the table)."""
    from sqlalchemy import insert

    from resources.database.engine import open_database, transaction
    from resources.database.models import StoryRecord

    factory = open_database(database_url)
    start = datetime.now(UTC) - timedelta(days=30)
    rows = [
        {
            "key": f"reddit-t3_{number:06d}",
            "source_kind": "reddit",
            "source_ref": f"t3_{number:06d}",
            "title": f"{'Harbour' if number % 10 == 0 else 'Lighthouse'} story number {number}",
            "body": BODY,
            "url": f"https://www.reddit.com/r/nosleep/comments/{number:06d}/",
            "language": "en",
            "priority": "normal",
            "approval": "pending" if number % 3 else "approved",
            "tags": ["nosleep"],
            "byline": {
                "kind": "reddit",
                "site": "r/nosleep",
                "author": "u/keeper",
                "score": number,
                "comments": 3,
            },
            "status": "new",
            "created_at": start + timedelta(seconds=number * 60),
            "updated_at": start + timedelta(seconds=number * 60),
        }
        for number in range(count)
    ]
    for first in range(0, len(rows), 1000):
        with transaction(factory) as session:
            session.execute(insert(StoryRecord), rows[first : first + 1000])


def daemons_beat() -> None:
    """Every daemon the home's instance needs has just beaten (what a running `dagster-daemon` writes)."""
    from dagster import DagsterInstance
    from dagster._daemon.types import DaemonHeartbeat

    from pellacia_assets.instance import prepare_dagster_home
    from pellacia_assets.settings import Settings

    settings = Settings.from_env()
    prepare_dagster_home(settings)
    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for daemon in instance.get_required_daemon_types():
            instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), daemon, None, None))


@contextmanager
def api_server(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [PELLACIA_DIST, "api", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise SystemExit(f"`pellacia-dist api` exited:\n{log.read_text()}")
            try:
                httpx.get(f"{url}/health", timeout=60)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"`pellacia-dist api` did not answer in 120 s:\n{log.read_text()}"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def load(url: str, path: str, workers: int, seconds: float) -> tuple[int, float, list[float]]:
    """`workers` threads each sending `path` back to back for `seconds`; (requests, elapsed, latencies)."""
    latencies: list[list[float]] = [[] for _ in range(workers)]
    failures: list[str] = []
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(workers + 1)

    def work(index: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
            client.get(path)  # the connection is open before the clock starts
            barrier.wait()
            while time.monotonic() < stop:
                began = time.perf_counter()
                response = client.get(path)
                latencies[index].append(time.perf_counter() - began)
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:300]}")
                    return

    threads = [threading.Thread(target=work, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if failures:
        raise SystemExit(f"GET {path} failed: {failures[0]}")
    flat = [value for worker in latencies for value in worker]
    return len(flat), elapsed, flat


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_backend(backend: str, stories: int, workers: int, seconds: float, scratch: Path) -> list[Result]:
    home = scratch / backend / "home"
    home.mkdir(parents=True)
    base = {key: value for key, value in os.environ.items() if not key.startswith(("PELLACIA_", "DAGSTER_"))}
    env = {**base, "PELLACIA_HOME": str(home), "PELLACIA_API_TOKEN": TOKEN, "PELLACIA_API_RATE": "off"}
    database: AbstractContextManager[str] = (
        postgres_database() if backend == "postgresql" else nullcontext("")
    )
    with database as postgres_url:
        if postgres_url:
            env["PELLACIA_POSTGRES_URL"] = postgres_url
        previous = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            from pellacia_assets.settings import Settings

            database_url = Settings.from_env().database_url
            began = time.monotonic()
            seed(database_url, stories)
            print(f"[{backend}] {stories} stories seeded in {time.monotonic() - began:.1f} s", flush=True)
            with api_server(env, scratch / backend / "api.log") as url:
                results = []
                for name, path in ENDPOINTS.items():
                    if path == "/health":
                        daemons_beat()
                    for _ in range(20):  # warm: connections, the Dagster instance, SQLite's page cache
                        httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
                    count, elapsed, latencies = load(url, path, workers, seconds)
                    result = Result(
                        backend=backend,
                        endpoint=name,
                        requests=count,
                        seconds=round(elapsed, 2),
                        requests_per_s=round(count / elapsed, 1),
                        p50_ms=round(statistics.median(latencies) * 1000, 1),
                        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
                        max_ms=round(max(latencies) * 1000, 1),
                    )
                    print(
                        f"[{backend}] {name}: {result.requests_per_s} req/s, p50 {result.p50_ms} ms, "
                        f"p99 {result.p99_ms} ms ({count} requests, {workers} workers)",
                        flush=True,
                    )
                    results.append(result)
                return results
        finally:
            os.environ.clear()
            os.environ.update(previous)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-api-"))
    try:
        results = [
            result
            for backend in args.backends.split(",")
            for result in run_backend(backend.strip(), args.stories, args.workers, args.seconds, scratch)
        ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(f"{'backend':11} {'endpoint':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for result in results:
        print(
            f"{result.backend:11} {result.endpoint:42} {result.requests_per_s:8.1f} {result.p50_ms:8.1f} "
            f"{result.p99_ms:8.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(result) for result in results], indent=2))


if __name__ == "__main__":
    main()
