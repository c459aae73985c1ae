"""One HTTP transport for every platform client: retries, rate-limit waits, token refresh, streaming.

The transport knows nothing of a platform's error format: each client passes a `classify` function that
turns a response into a `PlatformError` (or None when it succeeded), and the transport acts on its kind:
retry with backoff, wait as long as the platform's headers say, refresh the token once on 401, or stop.
A call that creates something (`creates=True`) is never blindly retried after the connection broke or the
server failed: that outcome is ambiguous and the caller must ask the platform first.
With a `proxy` (a VPN/proxy exit, see exits.py) every request goes through it; SOCKS needs `httpx[socks]`.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from resources.platforms.base import Progress
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError, redact, region_blocked

if TYPE_CHECKING:
    from resources.platforms.budget import RateGate

BLOCK_SIZE = 1024 * 1024
# Failures before a connection to the platform existed: nothing was sent, so even a create is not in doubt
# (a refused or timed-out connect, a proxy that refused the tunnel).
NOT_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)
# httpx logs every request URL at INFO, query string included: some platforms put tokens there.
logging.getLogger("httpx").setLevel(logging.WARNING)
Classifier = Callable[[httpx.Response], PlatformError | None]
Body = bytes | Callable[[], Iterable[bytes]] | None


class TokenProvider(Protocol):
    """The current access token of one account, and a way to get a new one."""

    def access_token(self) -> str: ...

    def refresh(self) -> str: ...

    def secrets(self) -> list[str]: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per call, exponential backoff, and the longest wait we accept."""

    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, as Google's upload sample does."""
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)))

    def delay(self, failure: PlatformError, attempt: int) -> float:
        """Seconds to wait after `failure` on try `attempt`: the platform's own hint, else backoff.

        Raises `failure` when another try is pointless (not retryable, or the last attempt), and a "try
        later" error when the platform asks for a longer wait than `max_delay_s`.
        """
        if not failure.retryable or attempt >= self.max_attempts:
            raise failure
        delay = failure.retry_after_s if failure.retry_after_s is not None else self.backoff(attempt)
        if delay > self.max_delay_s:
            raise PlatformError(
                failure.platform,
                failure.kind,
                f"{failure.args[0].split(': ', 1)[-1]} (asked to wait {delay:.0f} s; try later)",
                status=failure.status,
                code=failure.code,
                retry_after_s=delay,
            ) from failure
        return delay


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic_auth(client_id: str, client_secret: str) -> dict[str, str]:
    """HTTP Basic client authentication, as confidential clients use it at X's token endpoint."""
    pair = f"{client_id}:{client_secret}".encode()
    return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}


def file_chunks(
    path: Path, offset: int, length: int, block: int = BLOCK_SIZE, progress: Progress | None = None
) -> Callable[[], Iterator[bytes]]:
    """A re-startable reader of `length` bytes at `offset`: memory stays at one block, whatever the size.

    `progress` hears, after each block is taken, how far into the file the upload is.
    """

    def read() -> Iterator[bytes]:
        remaining = length
        total = path.stat().st_size
        with path.open("rb") as handle:
            handle.seek(offset)
            while remaining > 0:
                data = handle.read(min(block, remaining))
                if not data:
                    raise PlatformError("local", ErrorKind.INVALID_MEDIA, f"{path} shrank while uploading")
                remaining -= len(data)
                yield data
                if progress is not None:
                    progress(offset + length - remaining, total)

    return read


def multipart_body(
    fields: Mapping[str, str],
    file_field: str,
    chunks: Callable[[], Iterator[bytes]],
    length: int,
) -> tuple[dict[str, str], Callable[[], Iterator[bytes]]]:
    """A streamed multipart/form-data body: headers with its exact Content-Length, and a body factory.

    httpx's own encoder reads a `files=` part whole into memory (and sends no length for a stream); this
    keeps one block of `chunks` (`length` bytes of the file) in memory.
    """
    boundary = f"pellacia-{secrets.token_hex(16)}"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="blob"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from chunks()
        yield tail

    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + length + len(tail)),
    }
    return headers, body


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; {} when the body is not one (an HTML error page, an empty body)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def wait_hint(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait before the next call, from whichever rate-limit header the platform sent."""
    now = time.time() if now is None else now
    retry_after = response.headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        parsed = email.utils.parsedate_to_datetime(retry_after)
        return max(0.0, parsed.timestamp() - now)
    reset = response.headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit() and response.headers.get("x-rate-limit-remaining", "1") == "0":
        return max(0.0, float(reset) - now)
    minutes = meta_regain_minutes(response.headers)
    return None if minutes is None else minutes * 60.0


def meta_regain_minutes(headers: Mapping[str, str]) -> float | None:
    """`estimated_time_to_regain_access` (minutes) from Meta's X-Business-Use-Case-Usage / X-App-Usage."""
    longest: float | None = None
    for name in ("x-business-use-case-usage", "x-app-usage", "x-page-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage: Any = json.loads(raw)
        except json.JSONDecodeError:
            continue
        entries: list[Any] = []
        if isinstance(usage, dict) and "call_count" not in usage:
            for value in usage.values():
                entries.extend(value if isinstance(value, list) else [value])
        else:
            entries.append(usage)
        for entry in entries:
            if isinstance(entry, dict) and entry.get("estimated_time_to_regain_access"):
                minutes = float(entry["estimated_time_to_regain_access"])
                longest = minutes if longest is None else max(longest, minutes)
    return longest


class PlatformHttp:
    """An httpx client bound to one platform account, with the platform's error classifier; all of its
    requests go through `proxy` when one is given (socks5://, socks5h:// or http://; see exits.py)."""

    def __init__(
        self,
        platform: str,
        classify: Classifier,
        *,
        tokens: TokenProvider | None = None,
        auth: Callable[[str], dict[str, str]] = bearer,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
        gate: RateGate | None = None,
        proxy: str | None = None,
    ) -> None:
        self.platform = platform
        self.gate = gate
        self.classify = classify
        self.tokens = tokens
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.log = logger or logging.getLogger(f"pellacia.platforms.{platform}")
        self.client = httpx.Client(
            timeout=timeout or httpx.Timeout(30.0, read=300.0, write=300.0), proxy=proxy
        )
        self.calls = 0

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        creates: bool = False,
        authenticated: bool = True,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        content: Body = None,
        call: str | None = None,
    ) -> httpx.Response:
        """Send one logical call, retrying what may be retried; raise a classified PlatformError otherwise.

        A metered `call` (a kind in budget.COSTS) goes through the account's rate gate when there is one:
        each try waits for its place in the shared budget, every answer's rate headers tighten it, and a
        429 is waited out as long as the platform said (the gate holds the next try back), not by backoff.
        """
        attempt = 0
        refreshed = False
        label = f"{method} {urlsplit(url).path}"
        while True:
            attempt += 1
            send_headers = dict(headers or {})
            if authenticated and self.tokens is not None:
                send_headers.update(self.auth(self.tokens.access_token()))
            body = content() if callable(content) else content
            metered = self.gate if call is not None else None
            if metered is not None and call is not None:
                metered.before(call)
            self.calls += 1
            try:
                response = self.client.request(
                    method, url, headers=send_headers, params=params, json=json_body, data=data,
                    files=files, content=body,
                )  # fmt: skip
            except httpx.TransportError as error:
                if creates and not isinstance(error, NOT_CONNECTED):
                    raise AmbiguousOutcomeError(
                        self.platform,
                        f"{label}: connection lost ({type(error).__name__}); it may have taken effect",
                    ) from error
                failure = PlatformError(
                    self.platform,
                    ErrorKind.RETRYABLE,
                    f"{label}: {type(error).__name__}: {self._safe(str(error))}",
                )
            else:
                blocked = response.status_code == 451
                classified = region_blocked(self.platform, label) if blocked else self.classify(response)
                if metered is not None and call is not None:
                    # a platform that throttles without a 429 (Meta's 400 with code 4, 17, 32, 613) is
                    # counted as throttled all the same
                    throttled = classified is not None and classified.kind is ErrorKind.RATE_LIMIT
                    metered.after(call, response.headers, 429 if throttled else response.status_code)
                if classified is None:
                    return response
                failure = classified
                if creates and response.status_code >= 500:
                    raise AmbiguousOutcomeError(
                        self.platform, f"{label}: HTTP {response.status_code}; it may have taken effect"
                    )
            if failure.kind is ErrorKind.AUTH and failure.status == 401 and self.tokens and not refreshed:
                self.log.info("%s: access token refused; refreshing it", self.platform)
                self.tokens.refresh()
                refreshed = True
                continue
            if metered is not None and failure.kind is ErrorKind.RATE_LIMIT:
                if attempt >= self.retry.max_attempts:
                    raise failure
                self.log.warning("%s; waiting as the platform asked (attempt %d)", failure, attempt)
                continue
            delay = self.retry.delay(failure, attempt)
            self.log.warning("%s; retrying in %.1f s (attempt %d)", failure, delay, attempt)
            self.sleep(delay)

    def _safe(self, text: str) -> str:
        secrets: list[str | None] = list(self.tokens.secrets()) if self.tokens else []
        return redact(text, secrets)
