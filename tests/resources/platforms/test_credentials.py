"""Credentials without a key, under the wrong key, and moved from one key to another."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from resources.database.engine import open_database, transaction
from resources.database.models import PlatformCredential
from resources.platforms.clients import client_from_env, credential_store
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import (
    SECRET_KEY_VARIABLE,
    AccountTokens,
    CredentialKeyError,
    DatabaseCredentialStore,
    EnvironmentOnlyStore,
    TokenSet,
    initial_tokens,
    rotate_key,
    unreadable_credentials,
)
from resources.platforms.errors import ErrorKind, PlatformError

TOKENS = TokenSet("stored-access-0123456789", "stored-refresh-0123456789")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def factory(url: str) -> sessionmaker[Session]:
    return open_database(url)


def store_under(monkeypatch: pytest.MonkeyPatch, factory: sessionmaker[Session], platform: str) -> Fernet:
    """Store TOKENS for `platform` under a fresh key, which stays set; returns it."""
    key = Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_VARIABLE, key.decode())
    DatabaseCredentialStore(factory).save(platform, "default", TOKENS)
    return Fernet(key)


def clear_environment(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    for suffix in ("ACCESS_TOKEN", "REFRESH_TOKEN", "ACCOUNT"):
        monkeypatch.delenv(f"PELLACIA_{platform.upper()}_{suffix}", raising=False)


def ciphertexts(factory: sessionmaker[Session]) -> dict[tuple[str, str], bytes]:
    with transaction(factory) as session:
        rows = session.scalars(select(PlatformCredential)).all()
        return {(row.platform, row.account): row.ciphertext for row in rows}


# --- no key -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["tiktok", "youtube"])
def test_stored_credentials_without_the_key_name_the_missing_key(
    platform: str, url: str, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    store_under(monkeypatch, factory, platform)
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    clear_environment(monkeypatch, platform)

    with pytest.raises(PlatformError) as refused:
        client_from_env(platform, url)

    assert refused.value.kind is ErrorKind.AUTH
    assert str(refused.value) == (
        f"{platform}: account 'default' has stored credentials, but {SECRET_KEY_VARIABLE} is not set, so "
        "they cannot be decrypted; set it to the key they were stored with"
    )


def test_without_stored_credentials_or_a_key_it_still_says_run_auth(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    clear_environment(monkeypatch, "tiktok")
    with pytest.raises(
        PlatformError, match="no tokens for account 'default': run `pellacia-dist auth tiktok`"
    ):
        client_from_env("tiktok", url)


def test_environment_tokens_beside_unreadable_stored_ones_are_used_with_a_warning(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store_under(monkeypatch, factory, "youtube")
    monkeypatch.delenv(SECRET_KEY_VARIABLE)
    settings = PlatformSettings(platform="youtube", urls={}, access_token="env-access-0123456789")
    with caplog.at_level(logging.WARNING):
        tokens = initial_tokens(settings, EnvironmentOnlyStore(factory))
    assert tokens.access_token == "env-access-0123456789"
    assert f"{SECRET_KEY_VARIABLE} is not set" in caplog.text and "stored credentials" in caplog.text


def test_the_store_without_a_key_keeps_nothing_and_says_so(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_VARIABLE, raising=False)
    store = credential_store(url)
    assert isinstance(store, EnvironmentOnlyStore) and store.persistent is False
    assert store.locked("x", "default") is False
    with pytest.raises(CredentialKeyError):
        store.save("x", "default", TOKENS)


# --- refreshing without a key -------------------------------------------------------------------------


class Refresher:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, current: TokenSet) -> TokenSet:
        self.calls += 1
        return TokenSet(f"new-access-{self.calls:020d}", f"new-refresh-{self.calls:020d}")


def test_a_rotating_refresh_is_refused_before_the_token_endpoint_without_a_store() -> None:
    refresher = Refresher()
    tokens = AccountTokens("x", "default", TOKENS, refresher, EnvironmentOnlyStore(), rotating=True)
    with pytest.raises(PlatformError, match=f"but {SECRET_KEY_VARIABLE} is not set") as refused:
        tokens.refresh()
    assert refused.value.kind is ErrorKind.AUTH
    assert refresher.calls == 0 and tokens.current == TOKENS


def test_a_non_rotating_refresh_is_kept_in_memory_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    refresher = Refresher()
    tokens = AccountTokens("youtube", "default", TOKENS, refresher, EnvironmentOnlyStore(), rotating=False)
    with caplog.at_level(logging.WARNING):
        assert tokens.refresh() == "new-access-00000000000000000001"
        assert tokens.refresh() == "new-access-00000000000000000002"
    assert refresher.calls == 2
    assert sum("this process only" in record.getMessage() for record in caplog.records) == 1


def test_no_store_at_all_refreshes_as_before() -> None:
    refresher = Refresher()
    tokens = AccountTokens("tiktok", "default", TOKENS, refresher, None, rotating=True)
    assert tokens.refresh() == "new-access-00000000000000000001"


# --- one table, one key ----------------------------------------------------------------------------------


def test_rows_under_another_key_are_found_and_block_writing(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    store_under(monkeypatch, factory, "youtube")
    store_under(monkeypatch, factory, "x")  # a second key, as after changing PELLACIA_SECRET_KEY
    with transaction(factory) as session:
        assert unreadable_credentials(session, Fernet(Fernet.generate_key())) == [
            ("x", "default"),
            ("youtube", "default"),
        ]
    with pytest.raises(CredentialKeyError, match=r"youtube/default.*auth rotate-key"):
        DatabaseCredentialStore(factory).check_key()


def test_rotation_re_encrypts_every_row_and_mends_a_table_under_two_keys(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = store_under(monkeypatch, factory, "youtube")
    new = store_under(monkeypatch, factory, "x")
    with transaction(factory) as session:
        done = rotate_key(session, old, new)
    assert done.rotated == (("youtube", "default"),) and done.current == (("x", "default"),)
    assert done.forgotten == ()
    for ciphertext in ciphertexts(factory).values():
        assert json.loads(new.decrypt(ciphertext))["access_token"] == TOKENS.access_token
    DatabaseCredentialStore(factory).check_key()


def test_rotation_with_a_row_no_key_opens_changes_nothing_unless_told_to_forget_it(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = store_under(monkeypatch, factory, "youtube")
    store_under(monkeypatch, factory, "tiktok")  # under a key that is then lost
    new = store_under(monkeypatch, factory, "x")
    before = ciphertexts(factory)
    with (
        pytest.raises(CredentialKeyError, match=r"tiktok/default; nothing was changed"),
        transaction(factory) as session,
    ):
        rotate_key(session, old, new)
    assert ciphertexts(factory) == before

    with transaction(factory) as session:
        done = rotate_key(session, old, new, forget_unreadable=True)
    assert done.forgotten == (("tiktok", "default"),) and done.rotated == (("youtube", "default"),)
    assert set(ciphertexts(factory)) == {("youtube", "default"), ("x", "default")}
