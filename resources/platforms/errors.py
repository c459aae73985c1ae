"""What can go wrong on a platform, sorted into the few kinds the publisher acts on differently."""

from __future__ import annotations

import enum


class ErrorKind(enum.Enum):
    """How the publisher reacts: retry later, refresh or re-authorise, stop, or ask the platform."""

    RETRYABLE = "retryable"  # 5xx, dropped connection before anything was created: try again
    RATE_LIMIT = "rate_limit"  # throttled or a quota/cap reached: wait as the platform says
    AUTH = "auth"  # token invalid, expired or revoked, or a scope missing: re-authorise
    INVALID_MEDIA = "invalid_media"  # the file or its metadata breaks the platform's rules
    DUPLICATE = "duplicate"  # the platform (or our ledger) says this was already posted
    POLICY = "policy"  # refused for policy, account state or permissions
    AMBIGUOUS = "ambiguous"  # a create call may or may not have taken effect: ask before retrying


class PlatformError(RuntimeError):
    """A classified platform failure; its message is safe to show (tokens are never part of it)."""

    def __init__(
        self,
        platform: str,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after_s: float | None = None,
        manual_reason: str | None = None,
    ) -> None:
        super().__init__(f"{platform}: {message}")
        self.manual_reason = manual_reason  # what a person must do, where the kind alone does not say
        self.platform = platform
        self.kind = kind
        self.status = status
        self.code = code
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        return self.kind in (ErrorKind.RETRYABLE, ErrorKind.RATE_LIMIT)


def kind_for_status(status: int, otherwise: ErrorKind = ErrorKind.POLICY) -> ErrorKind:
    """What an HTTP status alone says, for an answer that carries no platform error code."""
    if status >= 500 or status == 408:
        return ErrorKind.RETRYABLE
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status == 401:
        return ErrorKind.AUTH
    return otherwise


REGION_BLOCKED = "region_blocked"


def region_blocked(platform: str, label: str) -> PlatformError:
    """HTTP 451 (RFC 7725): the platform refuses the network the request came from, whatever it was; a
    refusal, so nothing was created, and another network (a VPN exit) may be let through."""
    return PlatformError(
        platform,
        ErrorKind.POLICY,
        f"{label}: not available from this network (HTTP 451, region blocked)",
        status=451,
        code=REGION_BLOCKED,
    )


class AmbiguousOutcomeError(PlatformError):
    """The connection broke after a call that creates something: the platform must be asked first."""

    def __init__(self, platform: str, message: str) -> None:
        super().__init__(platform, ErrorKind.AMBIGUOUS, message)


def redact(text: str, secrets: list[str | None]) -> str:
    """`text` with every secret replaced, for logs and error messages."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text
