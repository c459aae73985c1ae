"""`pellacia-dist auth`: the consent flow against the X sandbox, and tokens from standard input, end to end.

What reaches the database must be ciphertext only, decrypting (with PELLACIA_SECRET_KEY) to the tokens;
nothing the command prints may contain them.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from pellacia_assets.cli import main
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.models import PlatformCredential
from resources.platforms.credentials import SECRET_KEY_VARIABLE
from sandbox.common import running
from sandbox.x import XSandbox

CLIENT_ID = "pellacia-cli-test-client"
CLIENT_SECRET = "pellacia-cli-test-secret"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, pellacia_home: Path) -> Fernet:
    secret_key = Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_VARIABLE, secret_key.decode())
    for suffix in ("ACCESS_TOKEN", "REFRESH_TOKEN", "ACCOUNT"):
        monkeypatch.delenv(f"PELLACIA_X_{suffix}", raising=False)
    return Fernet(secret_key)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[XSandbox]:
    server = XSandbox(tmp_path / "x", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with running(server):
        for kind in ("API", "OAUTH"):
            monkeypatch.setenv(f"PELLACIA_X_{kind}_URL", server.url(kind.lower()))
        monkeypatch.setenv("PELLACIA_X_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PELLACIA_X_CLIENT_SECRET", CLIENT_SECRET)
        yield server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stored_row() -> tuple[str, str, bytes]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        [row] = session.scalars(select(PlatformCredential)).all()
        return row.platform, row.account, row.ciphertext


def decrypted(key: Fernet, ciphertext: bytes) -> dict[str, Any]:
    secrets: dict[str, Any] = json.loads(key.decrypt(ciphertext))
    return secrets


def run_in_thread(argv: list[str]) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    thread.start()
    return thread, codes


def consent_url_printed(capsys: pytest.CaptureFixture[str], printed: list[str]) -> str:
    """Wait for the line the operator would open in a browser."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        printed.append(capsys.readouterr().out)
        for line in "".join(printed).splitlines():
            if line.strip().startswith("http://"):
                return line.strip()
        time.sleep(0.02)
    raise AssertionError(f"no consent URL printed: {''.join(printed)!r}")


def test_auth_runs_the_consent_flow_and_stores_the_tokens_encrypted(
    key: Fernet, sandbox: XSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    consent_page = sandbox.url("consent", "/i/oauth2/authorize")
    thread, codes = run_in_thread(["auth", "x", "--authorize-url", consent_page, "--port", str(port)])
    printed: list[str] = []
    url = consent_url_printed(capsys, printed)
    assert url.startswith(f"{consent_page}?")

    approval = httpx.get(url, follow_redirects=False, timeout=10)
    assert approval.status_code == 302
    assert approval.headers["location"].startswith(f"http://127.0.0.1:{port}/callback?")
    assert httpx.get(approval.headers["location"], timeout=10).status_code == 200
    thread.join(20)
    assert codes == [0]

    platform, account, ciphertext = stored_row()
    assert (platform, account) == ("x", "default")
    tokens = decrypted(key, ciphertext)
    assert sandbox.tokens.valid(tokens["access_token"])
    assert tokens["refresh_token"]
    assert tokens["expires_at"] > time.time() + 3600
    output = "".join(printed) + "".join(capsys.readouterr())
    assert "stored x credentials for account 'default' (encrypted)" in output
    for secret in (tokens["access_token"], tokens["refresh_token"], CLIENT_SECRET):
        assert secret.encode() not in ciphertext
        assert secret not in output


def test_auth_reads_tokens_from_standard_input(
    key: Fernet, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    given = {"access_token": "given-access-0123456789", "refresh_token": "given-refresh-0123456789"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({**given, "expires_in": 7200})))
    monkeypatch.setenv("PELLACIA_X_ACCOUNT", "newsroom")

    assert main(["auth", "x", "--token-stdin"]) == 0

    platform, account, ciphertext = stored_row()
    assert (platform, account) == ("x", "newsroom")
    tokens = decrypted(key, ciphertext)
    assert {name: tokens[name] for name in given} == given
    assert time.time() + 7000 < tokens["expires_at"] <= time.time() + 7200
    output = "".join(capsys.readouterr())
    for secret in given.values():
        assert secret.encode() not in ciphertext
        assert secret not in output


@pytest.mark.usefixtures("key")
def test_auth_without_the_secret_key_refuses_before_showing_a_consent_page(
    sandbox: XSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    consent_page = sandbox.url("consent", "/i/oauth2/authorize")

    assert main(["auth", "x", "--authorize-url", consent_page, "--port", str(free_port())]) == 2

    printed = capsys.readouterr()
    assert f"{SECRET_KEY_VARIABLE} is not set" in printed.err
    assert "http://" not in printed.out
    assert sandbox.requests == []


def rows() -> dict[tuple[str, str], bytes]:
    with transaction(open_database(Settings.from_env().database_url)) as session:
        return {
            (row.platform, row.account): row.ciphertext for row in session.scalars(select(PlatformCredential))
        }


def store_from_stdin(monkeypatch: pytest.MonkeyPatch, platform: str, access: str) -> int:
    given = {"access_token": access, "refresh_token": f"{access}-refresh"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(given)))
    return main(["auth", platform, "--token-stdin"])


def test_auth_under_another_key_refuses_instead_of_leaving_the_table_under_two_keys(
    key: Fernet, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert store_from_stdin(monkeypatch, "youtube", "youtube-access-0123456789") == 0
    before = rows()
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    capsys.readouterr()

    assert store_from_stdin(monkeypatch, "x", "x-access-0123456789") == 2

    printed = capsys.readouterr()
    assert len(printed.err.strip().splitlines()) == 1
    assert "youtube/default" in printed.err and "pellacia-dist auth rotate-key" in printed.err
    assert "PELLACIA_OLD_SECRET_KEY" in printed.err
    assert rows() == before


@pytest.mark.parametrize("via", ["environment", "stdin"])
@pytest.mark.usefixtures("key")
def test_rotate_key_re_encrypts_every_row_then_auth_works_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], via: str
) -> None:
    old_value = os.environ[SECRET_KEY_VARIABLE]
    assert store_from_stdin(monkeypatch, "youtube", "youtube-access-0123456789") == 0
    assert store_from_stdin(monkeypatch, "tiktok", "tiktok-access-0123456789") == 0
    new_key = Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_VARIABLE, new_key.decode())
    if via == "environment":
        monkeypatch.setenv("PELLACIA_OLD_SECRET_KEY", old_value)
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
    else:
        monkeypatch.delenv("PELLACIA_OLD_SECRET_KEY", raising=False)
        monkeypatch.setattr("sys.stdin", io.StringIO(old_value + "\n"))
    capsys.readouterr()

    assert main(["auth", "rotate-key"]) == 0

    out = capsys.readouterr().out
    assert "re-encrypted 2 stored credential(s) with the current key; 0 already used it" in out
    assert old_value not in out and new_key.decode() not in out
    stored = {name: json.loads(Fernet(new_key).decrypt(ciphertext)) for name, ciphertext in rows().items()}
    assert stored[("youtube", "default")]["access_token"] == "youtube-access-0123456789"
    assert stored[("tiktok", "default")]["access_token"] == "tiktok-access-0123456789"
    assert store_from_stdin(monkeypatch, "x", "x-access-0123456789") == 0


def test_rotate_key_without_the_old_key_is_a_one_line_error(
    key: Fernet, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert store_from_stdin(monkeypatch, "youtube", "youtube-access-0123456789") == 0
    before = rows()
    monkeypatch.setenv(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    monkeypatch.delenv("PELLACIA_OLD_SECRET_KEY", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    capsys.readouterr()

    assert main(["auth", "rotate-key"]) == 2
    assert "PELLACIA_OLD_SECRET_KEY" in capsys.readouterr().err

    monkeypatch.setenv("PELLACIA_OLD_SECRET_KEY", Fernet.generate_key().decode())  # the wrong old key
    assert main(["auth", "rotate-key"]) == 2
    err = capsys.readouterr().err
    assert "youtube/default" in err and "nothing was changed" in err and len(err.strip().splitlines()) == 1
    assert rows() == before


def test_auth_still_takes_a_platform_name() -> None:
    from pellacia_assets.cli import build_parser

    args = build_parser().parse_args(["auth", "youtube", "--port", "9000"])
    assert (args.platform, args.port) == ("youtube", 9000)
    assert build_parser().parse_args(["auth", "rotate-key"]).platform == "rotate-key"
