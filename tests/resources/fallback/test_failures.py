"""Which failure lets which layer try next: the network, the path, or nothing (a refusal of the post)."""

from __future__ import annotations

import pytest

from resources.browser.errors import BrowserError
from resources.fallback.failures import Reach, can_help, reach_of
from resources.fallback.order import Layer
from resources.platforms.errors import ErrorKind, PlatformError, region_blocked


@pytest.mark.parametrize(
    ("error", "reach"),
    [
        (PlatformError("tiktok", ErrorKind.RETRYABLE, "ConnectError: refused"), "network"),
        (region_blocked("tiktok", "POST /v2/post/publish/video/init/"), "network"),
        (PlatformError("tiktok", ErrorKind.AUTH, "token revoked", status=401), "path"),
        (
            PlatformError(
                "tiktok",
                ErrorKind.POLICY,
                "unaudited",
                code="unaudited_client_can_only_post_to_private_accounts",
            ),
            "path",
        ),
        (BrowserError("tiktok", ErrorKind.POLICY, "a captcha", code="captcha"), "path"),
        (BrowserError("tiktok", ErrorKind.AUTH, "expired", code="session_expired"), "path"),
        (BrowserError("tiktok", ErrorKind.RETRYABLE, "died", code="browser_crashed"), "network"),
        (PlatformError("tiktok", ErrorKind.INVALID_MEDIA, "too long"), "everywhere"),
        (
            PlatformError("tiktok", ErrorKind.RATE_LIMIT, "daily cap", code="spam_risk_too_many_posts"),
            "everywhere",
        ),
        (
            PlatformError("tiktok", ErrorKind.POLICY, "spam risk", code="spam_risk_user_banned_from_posting"),
            "everywhere",
        ),
        (PlatformError("tiktok", ErrorKind.DUPLICATE, "already posted"), "everywhere"),
    ],
)
def test_each_failure_has_its_reach(error: PlatformError, reach: Reach) -> None:
    assert reach_of(error) == reach


@pytest.mark.parametrize(
    ("reach", "failed", "next_layer", "helps"),
    [
        ("network", "api", "api+proxy", True),
        ("network", "browser", "browser+proxy", True),
        ("path", "api", "api+proxy", False),  # a revoked token is revoked through any exit
        ("path", "api", "browser", True),
        ("path", "browser", "browser+proxy", False),  # an expired session, a captcha: a person
        ("everywhere", "api", "browser", False),
    ],
)
def test_a_layer_is_tried_only_where_it_can_help(
    reach: Reach, failed: Layer, next_layer: Layer, helps: bool
) -> None:
    assert can_help(reach, failed, next_layer) is helps
