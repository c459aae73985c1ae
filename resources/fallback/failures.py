"""Which failures another path can help with, and which apply to every path.

- `network`: the request never got an answer from the platform on this network: a connection refused,
  reset or timed out, an exit that hangs, a region block (HTTP 451), a platform outage (5xx), a browser
  that crashed before Post. Another network (an exit) or another path may get through.
- `path`: this path is closed to the account while another may be open: the API's token revoked or not
  granted, an API client not approved for posting, a browser session expired, a CAPTCHA, a web page that
  changed. The same path through an exit does not help; the other path may.
- `everywhere`: the platform refused the post itself (policy, media rejected, a daily cap, a duplicate):
  no path helps, and trying one would only be refused again, or worse, get the account flagged.
"""

from __future__ import annotations

from typing import Literal

from resources.fallback.order import Layer, path_of
from resources.platforms.errors import REGION_BLOCKED, ErrorKind, PlatformError

Reach = Literal["network", "path", "everywhere"]

# Codes that refuse the API access itself rather than the post: TikTok's unaudited client may only post
# privately (Content Posting API, "unaudited_client_can_only_post_to_private_accounts"), X's app not
# enrolled in a project with v2 access ("client-not-enrolled").
ACCESS_CODES = frozenset({"unaudited_client_can_only_post_to_private_accounts", "client-not-enrolled"})
# The browser path's own closures (resources/browser/errors.py codes).
BROWSER_PATH_CODES = frozenset(
    {"captcha", "page_changed", "browser_unavailable", "no_session", "session_expired"}
)


def reach_of(error: PlatformError) -> Reach:
    if error.code == REGION_BLOCKED or error.kind is ErrorKind.RETRYABLE:
        return "network"
    if error.kind is ErrorKind.AUTH or error.code in ACCESS_CODES or error.code in BROWSER_PATH_CODES:
        return "path"
    return "everywhere"


def can_help(reach: Reach, failed: Layer, next_layer: Layer) -> bool:
    """Whether `next_layer` may succeed where `failed` failed with a failure of `reach`."""
    if reach == "network":
        return True
    if reach == "path":
        return path_of(next_layer) != path_of(failed)
    return False
