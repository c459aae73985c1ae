"""Signing webhook deliveries, and checking a signature on the receiving end.

Each delivery carries `X-Pellacia-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256(secret, "<t>.<raw body>"). Signing the timestamp with the body lets a receiver refuse a
replayed delivery (one older than its tolerance) as well as a forged or altered one. `verify` is what a
receiver written in Python can call as is; in any other language it is the same three steps: split the
header, recompute the HMAC over `<t>.<body>`, compare in constant time and check `t` is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Pellacia-Signature"
EVENT_HEADER = "X-Pellacia-Event"
DELIVERY_HEADER = "X-Pellacia-Delivery"
TOLERANCE_S = 300.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, event: str, event_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one delivery of `body`."""
    moment = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: f"t={moment},v1={signature(secret, moment, body)}",
        EVENT_HEADER: event,
        DELIVERY_HEADER: event_id,
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when `headers` carry a signature of `body` under `secret`, made within `tolerance_s` of `now`.

    Header names are matched without regard to case; several `v1=` values (a secret being rotated) pass
    when any matches. Compare in constant time, so the check leaks nothing of the expected value."""
    value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
    if value is None:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for item in value.split(","):
        name, _, text = item.strip().partition("=")
        if name == "t" and text.isdigit():
            timestamp = int(text)
        elif name == "v1":
            candidates.append(text)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
