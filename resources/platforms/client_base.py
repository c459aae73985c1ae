"""What the six platform clients set up alike: settings, pacing, the account's tokens, their transports.

`base.PlatformClient` is the contract the publisher relies on; this is shared implementation, so that a
client module holds only its platform's protocol. A client built with `proxy` (a VPN/proxy exit's URL,
see exits.py) sends every request through it: each transport it makes carries the proxy.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TypedDict

from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.probe import MediaInfo
from pellacia_assets.rendering.verify import verify_media
from resources.platforms.base import (
    HistoryWindow,
    Journal,
    MetricReading,
    Progress,
    PublishedPost,
    VideoPost,
)
from resources.platforms.budget import RateGate
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import (
    AccountTokens,
    CredentialStore,
    TokenSet,
    initial_tokens,
    token_set_from_answer,
)
from resources.platforms.errors import ErrorKind, PlatformError
from resources.platforms.http import BLOCK_SIZE, Classifier, PlatformHttp, RetryPolicy, bearer, json_object
from resources.platforms.limits import validate_copy
from resources.platforms.video_limits import VIDEO_LIMITS

_log = logging.getLogger("pellacia.publisher")


class ClientOptions(TypedDict, total=False):
    """The keywords every client takes: how it waits, polls and retries, and the block size it sends."""

    sleep: Callable[[float], None]
    poll_interval_s: float
    max_polls: int
    retry: RetryPolicy | None
    chunk_size: int
    budget: sessionmaker[Session] | None
    proxy: str | None


class PlatformClientBase(ABC):
    """A client of one platform account; subclasses name `platform` and refresh tokens in `_refresh`.

    `self_renewing_tokens`: the platform renews the access token itself (Meta's exchange), so it is also
    the token to refresh with when the environment gives no other.
    `rotating_refresh_tokens`: every refresh replaces the refresh token and kills the old one (TikTok,
    X), so a refresh that cannot be stored is refused before the token endpoint is called.
    """

    platform: str
    history_window: HistoryWindow | None = None
    no_history_reason = "the platform's API keeps no daily history, only lifetime totals"
    self_renewing_tokens = False
    rotating_refresh_tokens = False

    def __init__(
        self,
        settings: PlatformSettings,
        store: CredentialStore | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 5.0,
        max_polls: int = 120,
        retry: RetryPolicy | None = None,
        chunk_size: int = BLOCK_SIZE,
        budget: sessionmaker[Session] | None = None,
        proxy: str | None = None,
    ) -> None:
        self.settings = settings
        self.proxy = proxy
        self.account = settings.account
        self.sleep = sleep
        self.poll_interval_s = poll_interval_s
        self.max_polls = max_polls
        self.chunk_size = chunk_size
        self.retry = retry or RetryPolicy()
        initial = initial_tokens(settings, store, self_renewing=self.self_renewing_tokens)
        self.tokens = AccountTokens(
            self.platform,
            settings.account,
            initial,
            self._refresh,
            store,
            settings.client_secret,
            rotating=self.rotating_refresh_tokens,
        )
        self._transports: list[PlatformHttp] = []
        # the shared rate budget (budget.py) that metered calls go through; None: unmetered
        self.gate = RateGate(budget, self.platform, settings.account, sleep) if budget is not None else None

    @abstractmethod
    def check(self, post: VideoPost) -> None:
        """Refuse, before a byte is sent, a video or metadata the platform would reject."""

    @abstractmethod
    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        """Upload and publish, resuming from whatever the journal already holds."""

    @abstractmethod
    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """After an ambiguous outcome: ask the platform whether the post exists; None when it does not."""

    @abstractmethod
    def lifetime_metrics(self, post_ids: Sequence[str]) -> dict[str, MetricReading]:
        """Each post's lifetime totals as of now; a post the platform does not show is left out."""

    def daily_metrics(
        self, post_ids: Sequence[str], first: date, last: date
    ) -> dict[str, dict[date, MetricReading]]:
        """Measured daily rows; a platform whose API keeps no daily history says so (`no_history_reason`)."""
        raise PlatformError(self.platform, ErrorKind.POLICY, self.no_history_reason)

    @abstractmethod
    def created_times(self, post_ids: Sequence[str]) -> dict[str, datetime]:
        """The platform's own creation time of each post it shows (its first day of metrics)."""

    @abstractmethod
    def verify_access(self) -> str:
        """One documented read-only call that proves the token works for the account: who it is, in words
        (`upload --test`); the usual classified PlatformError (AUTH for a bad token) otherwise."""

    @abstractmethod
    def _refresh(self, current: TokenSet) -> TokenSet:
        """New tokens from the platform's token endpoint; AccountTokens stores them."""

    def transport(
        self,
        classify: Classifier,
        *,
        signed: bool = True,
        auth: Callable[[str], dict[str, str]] = bearer,
        retry: RetryPolicy | None = None,
    ) -> PlatformHttp:
        """A transport with this client's sleep, retry policy and proxy, and its tokens when `signed`."""
        http = PlatformHttp(
            self.platform,
            classify,
            tokens=self.tokens if signed else None,
            auth=auth,
            retry=retry or self.retry,
            sleep=self.sleep,
            gate=self.gate,
            proxy=self.proxy,
        )
        self._transports.append(http)
        return http

    def close(self) -> None:
        for http in self._transports:
            http.close()

    def _probe(self, post: VideoPost) -> MediaInfo:
        """The video's streams, from a file verified whole (`verify_media`: a truncated or damaged file is
        refused here, before any request); an INVALID_MEDIA error when it is missing, incomplete or not
        readable media. A video without sound is said in the log (`video_problems` refuses it where the
        platform requires a sound track)."""
        try:
            info = verify_media(post.video)
        except (MediaError, OSError) as error:
            reason = str(error).removeprefix(f"{post.video.name}: ")
            raise PlatformError(
                self.platform, ErrorKind.INVALID_MEDIA, f"{post.video.name} is not a readable video: {reason}"
            ) from error
        if not info.has_audio and not VIDEO_LIMITS[self.platform].audio_required:
            _log.warning("%s: %s has no audio track; it goes out silent", self.platform, post.video.name)
        return info

    def _polls(self) -> Iterator[int]:
        """Up to `max_polls` rounds of asking how processing goes, `poll_interval_s` apart."""
        for poll in range(self.max_polls):
            if poll:
                self.sleep(self.poll_interval_s)
            yield poll

    def _still_waiting(self, what: str) -> PlatformError:
        """The polls ran out: retryable, as the ledger holds the ids that the next attempt waits on with."""
        return PlatformError(
            self.platform,
            ErrorKind.RETRYABLE,
            f"{what} after {self.max_polls} polls; the ledger keeps its ids and the next attempt waits on",
        )

    def _check_rules(self, post: VideoPost, video_problems: list[str], caption: str, verdict: str) -> None:
        """Refuse, before any request, a post whose video (`video_problems`) or words break the rules."""
        problems = video_problems + [
            problem.removeprefix(f"{self.platform}: ")
            for problem in validate_copy(self.platform, post.title, caption, post.hashtags)
        ]
        if problems:
            raise PlatformError(
                self.platform, ErrorKind.INVALID_MEDIA, f"{post.video.name} {verdict}: {'; '.join(problems)}"
            )

    def _refresh_grant(
        self,
        http: PlatformHttp,
        path: str,
        current: TokenSet,
        *,
        client_id_field: str = "client_id",
        headers: Mapping[str, str] | None = None,
    ) -> TokenSet:
        """The refresh grant (RFC 6749 section 6) at `{oauth}path`, the app's id and secret in the form."""
        client_id, client_secret = self.settings.client_id, self.settings.client_secret
        if not (client_id and client_secret):
            prefix = f"PELLACIA_{self.platform.upper()}_"
            raise PlatformError(
                self.platform,
                ErrorKind.AUTH,
                f"the access token needs refreshing, but {prefix}CLIENT_ID and {prefix}CLIENT_SECRET are "
                "not both set",
            )
        response = http.request(
            "POST",
            self.settings.url("oauth", path),
            authenticated=False,
            headers=headers,
            data={
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token,
                client_id_field: client_id,
                "client_secret": client_secret,
            },
        )
        return token_set_from_answer(self.platform, json_object(response))
