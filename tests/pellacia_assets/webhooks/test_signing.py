"""Signatures: a receiver holding the secret accepts the delivery as sent, and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import time

from pellacia_assets.webhooks.signing import SIGNATURE_HEADER, sign, verify

SECRET = "whsec_test"
BODY = b'{"data":{"story_key":"flood"},"event":"post.published","id":"e1"}'


def test_the_header_is_an_hmac_of_the_timestamp_and_body() -> None:
    headers = sign(SECRET, "post.published", "e1", BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"t=1700000000,v1={expected}"
    assert headers["X-Pellacia-Event"] == "post.published"
    assert headers["X-Pellacia-Delivery"] == "e1"
    assert headers["Content-Type"] == "application/json"


def test_a_fresh_signature_verifies() -> None:
    headers = sign(SECRET, "post.published", "e1", BODY)
    assert verify(SECRET, headers, BODY)
    lower = {name.lower(): value for name, value in headers.items()}  # as many servers hand them over
    assert verify(SECRET, lower, BODY)


def test_a_tampered_body_or_another_secret_fails() -> None:
    headers = sign(SECRET, "post.published", "e1", BODY)
    assert not verify(SECRET, headers, BODY.replace(b"flood", b"fire"))
    assert not verify(SECRET, headers, BODY + b" ")
    assert not verify("whsec_other", headers, BODY)


def test_an_old_signature_is_a_replay() -> None:
    now = time.time()
    headers = sign(SECRET, "post.published", "e1", BODY, timestamp=int(now) - 301)
    assert not verify(SECRET, headers, BODY, now=now)
    assert verify(SECRET, headers, BODY, tolerance_s=600, now=now)


def test_a_missing_or_malformed_header_fails() -> None:
    headers = sign(SECRET, "post.published", "e1", BODY)
    value = headers[SIGNATURE_HEADER]
    assert not verify(SECRET, {}, BODY)
    assert not verify(SECRET, {SIGNATURE_HEADER: value.split(",")[1]}, BODY)  # no timestamp
    assert not verify(SECRET, {SIGNATURE_HEADER: value.split(",")[0]}, BODY)  # no signature
    assert not verify(SECRET, {SIGNATURE_HEADER: value.replace("t=", "t=x")}, BODY)


def test_any_of_several_signatures_may_match() -> None:
    stamp = int(time.time())
    good = sign(SECRET, "post.published", "e1", BODY, timestamp=stamp)[SIGNATURE_HEADER].split("v1=")[1]
    assert verify(SECRET, {SIGNATURE_HEADER: f"t={stamp},v1={'0' * 64},v1={good}"}, BODY)
