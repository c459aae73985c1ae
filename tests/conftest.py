"""Shared fixtures: an isolated PELLACIA_HOME, and a fresh PostgreSQL database when a test needs one.

PostgreSQL: the server at 127.0.0.1:5432 (trust auth) when it answers (PELLACIA_TEST_POSTGRES=host:port
names another); otherwise a throwaway server from Debian's postgresql package, started by pytest-postgresql,
or, as root (initdb refuses to run as root), by the same binaries run as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from cryptography.fernet import Fernet
from psycopg2 import sql
from pytest_postgresql import factories

from sandbox.platforms import SandboxSuite, platform_sandboxes
from tests.proxies import HTTP_PASSWORD, SOCKS_PASSWORD, USER, Proxy, microsocks, running, tinyproxy

ARTIFACTS = Path(__file__).parent / "artifacts"
_HOST, _, _PORT = os.environ.get("PELLACIA_TEST_POSTGRES", "127.0.0.1:5432").partition(":")
LOCAL_POSTGRES = (_HOST, int(_PORT))


def _local_postgres_answers() -> bool:
    try:
        with socket.create_connection(LOCAL_POSTGRES, timeout=1):
            return True
    except OSError:
        return False


def _pg_ctl() -> str:
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return shutil.which("pg_ctl") or (str(installed[-1]) if installed else "pg_ctl")


postgresql_proc = factories.postgresql_proc(executable=_pg_ctl())


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> str:
    """A server URL without a database name: `postgresql://user@host:port`."""
    if _local_postgres_answers():
        return f"postgresql://postgres@{LOCAL_POSTGRES[0]}:{LOCAL_POSTGRES[1]}"
    if os.geteuid() == 0:
        url: str = request.getfixturevalue("postgres_run_as_postgres_user")
        return url
    executor = request.getfixturevalue("postgresql_proc")
    return f"postgresql://{executor.user}@{executor.host}:{executor.port}"


@pytest.fixture(scope="session")
def postgres_run_as_postgres_user() -> Iterator[str]:
    """Debian's initdb and pg_ctl as the `postgres` user, in a world-traversable temporary folder."""
    binaries = Path(_pg_ctl()).parent
    folder = Path(tempfile.mkdtemp(prefix="pellacia-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def as_postgres(*command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)

    as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    as_postgres(
        str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    name = f"pellacia_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{postgres_server}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture
def pellacia_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_models: Path) -> Path:
    """A private PELLACIA_HOME with the embedded defaults; models are shared across tests to save time."""
    home = tmp_path / "home"
    monkeypatch.setenv("PELLACIA_HOME", str(home))
    monkeypatch.delenv("PELLACIA_POSTGRES_URL", raising=False)
    monkeypatch.delenv("PELLACIA_DATABASE_URL", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("PELLACIA_MODELS_DIR", str(shared_models))
    monkeypatch.setenv("PELLACIA_CACHE_DIR", str(shared_models / "cache"))
    return home


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Joined Whisper models and measured voice paces, prepared once per test session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def render_test_video(path: Path, seconds: float = 4.0, size: str = "1080x1920", tone: int = 440) -> Path:
    """A real, small H.264/AAC MP4 with faststart (what the factory renders), made by ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=30", "-f", "lavfi",
         "-i", f"sine=f={tone}:r=48000", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """`make_video(path, seconds=4.0, size="1080x1920", tone=440)`: see render_test_video."""
    return render_test_video


@pytest.fixture
def sandboxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pellacia_home: Path) -> Iterator[SandboxSuite]:
    """All six platform sandboxes, with the environment pointing the real clients at them."""
    monkeypatch.setenv("PELLACIA_SECRET_KEY", Fernet.generate_key().decode())
    with platform_sandboxes(tmp_path / "sandboxes", processing_polls=0) as suite:
        for name, value in suite.env.items():
            monkeypatch.setenv(name, value)
        yield suite


@pytest.fixture(scope="module")
def socks_exit() -> Iterator[Proxy]:
    """A real SOCKS5 exit with a user and password (Debian's microsocks), shared by a test module."""
    with running(microsocks(user=USER, password=SOCKS_PASSWORD)) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def http_exit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """A real HTTP exit with BasicAuth (Debian's tinyproxy), shared by a test module."""
    with running(tinyproxy(tmp_path_factory.mktemp("tinyproxy"), user=USER, password=HTTP_PASSWORD)) as proxy:
        yield proxy


TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole-factory end-to-end files (top level of tests/) first, then the other files with
    end-to-end tests, each file's tests in their own order: on two workers (`make test`) the longest files
    then start at once instead of last."""
    slow_files = {item.path for item in items if item.get_closest_marker("e2e") is not None}

    def rank(item: pytest.Item) -> int:
        if item.path not in slow_files:
            return 2
        return 0 if item.path.parent == TESTS_DIR else 1

    items.sort(key=rank)
