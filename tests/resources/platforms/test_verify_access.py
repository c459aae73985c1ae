"""Every client's read-only access check (`verify_access`, used by `upload --test`) against the six
sandboxes: a valid token says who it reaches; an expired token that cannot be renewed, or a revoked one,
is an AUTH error; nothing is posted."""

from __future__ import annotations

import pytest

from pellacia_assets.settings import Settings
from resources.platforms import PLATFORMS
from resources.platforms.client_base import PlatformClientBase
from resources.platforms.clients import client_from_env
from resources.platforms.errors import ErrorKind, PlatformError
from sandbox.linkedin import DEFAULT_MEMBER, LinkedInSandbox
from sandbox.platforms import ACCOUNT_IDS, SandboxSuite

# What each platform's answer names: the account the sandbox holds for the token.
WHO = {
    "youtube": "channel UCpellaciaSandboxChannel (Pellacia Sandbox)",
    "tiktok": "creator @",
    "instagram": f"account {ACCOUNT_IDS['instagram'][1]} (@pellacia.press)",
    "facebook": f"page {ACCOUNT_IDS['facebook'][1]} (",
    "x": "@",
    "linkedin": f"organization {ACCOUNT_IDS['linkedin'][1]} (the member's role: ADMINISTRATOR)",
}


def verify(platform: str) -> str:
    client = client_from_env(platform, Settings.from_env().database_url)
    try:
        assert isinstance(client, PlatformClientBase)
        return client.verify_access()
    finally:
        client.close()


def refused(platform: str) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        verify(platform)
    return caught.value


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_valid_token_says_who_it_reaches(platform: str, sandboxes: SandboxSuite) -> None:
    assert verify(platform).startswith(WHO[platform])
    assert sandboxes.servers[platform].posts == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_expired_token_that_cannot_be_renewed_is_an_auth_error(
    platform: str, sandboxes: SandboxSuite, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandboxes.servers[platform].expire_tokens()
    monkeypatch.delenv(f"PELLACIA_{platform.upper()}_REFRESH_TOKEN")
    assert refused(platform).kind is ErrorKind.AUTH


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_revoked_token_is_an_auth_error(
    platform: str, sandboxes: SandboxSuite, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"PELLACIA_{platform.upper()}_"
    monkeypatch.setenv(f"{prefix}ACCESS_TOKEN", "revoked-access-token")
    monkeypatch.setenv(f"{prefix}REFRESH_TOKEN", "revoked-refresh-token")
    assert refused(platform).kind is ErrorKind.AUTH


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "x", "linkedin"])
def test_an_expired_token_is_refreshed_first(platform: str, sandboxes: SandboxSuite) -> None:
    server = sandboxes.servers[platform]
    server.expire_tokens()
    assert verify(platform).startswith(WHO[platform])
    assert server.tokens.refreshes == 1


def test_linkedin_without_a_role_on_the_organization_is_refused(sandboxes: SandboxSuite) -> None:
    server = sandboxes.servers["linkedin"]
    assert isinstance(server, LinkedInSandbox)
    server.organization_roles.clear()
    error = refused("linkedin")
    assert error.kind is ErrorKind.POLICY
    assert "no approved role on urn:li:organization:" in str(error)


def test_linkedin_member_author_is_named_by_userinfo(
    sandboxes: SandboxSuite, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandboxes.servers["linkedin"]
    assert isinstance(server, LinkedInSandbox)
    monkeypatch.setenv("PELLACIA_LINKEDIN_AUTHOR", DEFAULT_MEMBER)
    assert verify("linkedin") == f"member {DEFAULT_MEMBER} (Pellacia Sandbox)"
    monkeypatch.setenv("PELLACIA_LINKEDIN_AUTHOR", "urn:li:person:someoneElse")
    error = refused("linkedin")
    assert error.kind is ErrorKind.AUTH
    assert f"the token is member {DEFAULT_MEMBER}'s" in str(error)
