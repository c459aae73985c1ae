"""One platform account's posts through the first path that works: the API, the API through an exit, the
web page in Chromium, the web page through an exit, and finally a person (the manual queue).

`FallbackPublisher` is a `Publisher` like any API client, so the publish ledger, its claims and
`publish_once` work unchanged: one ledger row covers every path. A layer is tried only when the failure
before it is one it can help with (failures.py); an exit that fails is backed off in the shared
`ExitPool` and the next healthy exit is tried, resuming from the ids the ledger holds.

Never twice: the ledger row remembers which path has created something on the platform
(`fallback_paths`), and no other path starts while one has: that path resumes (through another exit
when its network failed). After an attempt whose outcome is unknown (a connection lost on a create, a
browser that died after Post), the chain asks the platform before anything else is tried: through the
API where it answers, otherwise on the account's page in the browser; a path that created the post is
asked itself. When nobody can be asked, the outcome stays unknown (AMBIGUOUS) and nothing is posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from resources.browser.errors import BrowserError
from resources.browser.uploader import MARKER_KEY
from resources.fallback.failures import Reach, can_help, reach_of
from resources.fallback.order import VIA_KEY, Layer, through_exit
from resources.fallback.order import Path as PathKind
from resources.fallback.order import path_of as path_kind
from resources.platforms.base import Journal, Progress, PublishedPost, Publisher, VideoPost
from resources.platforms.errors import AmbiguousOutcomeError, ErrorKind, PlatformError
from resources.platforms.exits import Exit, ExitPool, hide_credentials

PATHS_KEY = "fallback_paths"  # the paths (api, browser) that created something on the platform
EXIT_KEY = "fallback_exit"  # the exit the last attempt went through
OWN_KEYS = frozenset({PATHS_KEY, EXIT_KEY, VIA_KEY, MARKER_KEY})  # keys that create nothing
MANUAL_REASONS = {"captcha": "captcha", "no_session": "reauth", "session_expired": "reauth"}
log = logging.getLogger("pellacia.fallback")


@dataclass(frozen=True)
class Route:
    """One way to try: a layer, through `exit` for the +proxy layers."""

    layer: Layer
    exit: Exit | None = None

    @property
    def label(self) -> str:
        return f"{self.layer} ({self.exit.name})" if self.exit is not None else self.layer


@dataclass(frozen=True)
class Attempt:
    route: Route
    error: PlatformError

    @property
    def line(self) -> str:
        reason = str(self.error).removeprefix(f"{self.error.platform}: ").splitlines()[0]
        return f"{self.route.label}: {hide_credentials(reason)}"


class FallbackExhaustedError(PlatformError):
    """Every path that could help failed: the post is for a person (the chain's manual layer). The
    message has one line per path; `artifacts` the folders with the screenshots and traces of the
    browser attempts."""

    def __init__(self, platform: str, attempts: list[Attempt], skipped: list[str], reason: str) -> None:
        lines = [attempt.line for attempt in attempts] + skipped
        super().__init__(
            platform,
            ErrorKind.POLICY,
            "every path failed: " + "; ".join(lines),
            code="fallback_exhausted",
            manual_reason=reason,
        )
        self.attempts = attempts
        self.artifacts = [
            attempt.error.artifacts
            for attempt in attempts
            if isinstance(attempt.error, BrowserError) and attempt.error.artifacts is not None
        ]


@dataclass
class _Layers:
    """How to build each path's publisher: `api(proxy)`, and `browser(proxy)` when the account has a
    browser path (a flow for the platform and a session once logged in)."""

    api: Callable[[str | None], Publisher]
    browser: Callable[[str | None], Publisher] | None
    exits: ExitPool | None


class FallbackPublisher:
    """See the module docstring. `order` the layers to try (order.py); `log` hears each move."""

    def __init__(
        self,
        platform: str,
        account: str,
        order: tuple[Layer, ...],
        *,
        api: Callable[[str | None], Publisher],
        browser: Callable[[str | None], Publisher] | None = None,
        exits: ExitPool | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.order = order
        self._layers = _Layers(api, browser, exits)
        self._say = log or (lambda line: logging.getLogger("pellacia.fallback").info("%s", line))

    def available(self, layer: Layer) -> bool:
        """Whether `layer` is set up for this account (an exit configured, a browser session stored)."""
        if layer == "manual":
            return False
        if path_kind(layer) == "browser" and self._layers.browser is None:
            return False
        return not through_exit(layer) or bool(
            self._layers.exits is not None and self._layers.exits.ordered(self.platform)
        )

    # --- the Publisher calls ---------------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        """The rules of the first path that will be tried (the platform's rules are the same on each)."""
        first = next((layer for layer in self.order if self.available(layer)), None)
        if first is None:
            return
        with self._publisher(Route(first)) as publisher:
            publisher.check(post)

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        attempts: list[Attempt] = []
        skipped: list[str] = []
        last: tuple[Route, Reach] | None = None
        for layer in self.order:
            if layer == "manual":
                break
            if not self.available(layer):
                continue
            if last is not None and not can_help(last[1], last[0].layer, layer):
                skipped.append(f"{layer}: not tried ({last[1]} failure: it cannot help)")
                continue
            holder = self._holder(journal)
            if holder is not None and holder != path_kind(layer):
                skipped.append(f"{layer}: not tried (the {holder} path holds this post's upload)")
                continue
            for route in self._routes(layer):
                if last is not None and self._holder(journal) is not None:
                    found = self._ask(post, journal)  # never post again before asking
                    if found is not None:
                        return found
                try:
                    return self._attempt(route, post, journal, progress)
                except PlatformError as error:
                    reach = self._failed(route, error, post, journal)
                    if isinstance(reach, PublishedPost):
                        return reach
                    attempts.append(Attempt(route, error))
                    last = (route, reach)
                    if reach == "everywhere":
                        raise
                    if reach != "network":
                        break  # another exit does not open a closed path
        raise self._exhausted(attempts, skipped)

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        return self._ask(post, journal)

    def close(self) -> None:
        """Publishers are built per attempt and closed after it; nothing stays open."""

    # --- the machinery ------------------------------------------------------------------------------------

    def _attempt(
        self, route: Route, post: VideoPost, journal: Journal, progress: Progress | None
    ) -> PublishedPost:
        if journal.get(VIA_KEY) not in (None, route.layer):
            self._say(f"{self.platform}: trying {route.label}")
        journal.put(VIA_KEY, route.layer)
        if route.exit is not None:
            journal.put(EXIT_KEY, route.exit.name)
        with self._publisher(route) as publisher:
            published = publisher.publish(post, _Watched(journal, path_kind(route.layer)), progress)
        if route.exit is not None and self._layers.exits is not None:
            self._layers.exits.succeeded(route.exit)
        return published

    def _failed(
        self, route: Route, error: PlatformError, post: VideoPost, journal: Journal
    ) -> Reach | PublishedPost:
        """What a failed attempt means: its reach, or the post after all (an unknown outcome that asking
        the platform settled). An exit whose network failed is backed off."""
        self._say(f"{self.platform}: {Attempt(route, error).line}")
        if error.kind is ErrorKind.AMBIGUOUS:
            found = self._ask(post, journal)
            if found is not None:
                return found
            self._say(f"{self.platform}: the platform has no such post; going on")
            reach: Reach = "network"
        else:
            reach = reach_of(error)
        if reach == "network" and route.exit is not None and self._layers.exits is not None:
            self._layers.exits.failed(route.exit, str(error))
        return reach

    def _exhausted(self, attempts: list[Attempt], skipped: list[str]) -> PlatformError:
        """The last error alone where only one path was tried and no person is asked for (the behaviour
        of a plain API client); otherwise every path's line, for the manual queue."""
        if not attempts:
            return PlatformError(
                self.platform, ErrorKind.POLICY, "no publishing path is set up: " + "; ".join(skipped)
            )
        if len(attempts) == 1 or "manual" not in self.order:
            return attempts[-1].error
        last = attempts[-1].error
        reason = MANUAL_REASONS.get(last.code or "") or (
            "reauth" if last.kind is ErrorKind.AUTH else "all_paths_failed"
        )
        return FallbackExhaustedError(self.platform, attempts, skipped, reason)

    def _routes(self, layer: Layer) -> Iterator[Route]:
        """The layer's routes: the direct one, or each healthy exit in the pool's order, one at a time
        (an exit that failed is backed off, so the next choice is another)."""
        if not through_exit(layer):
            yield Route(layer)
            return
        pool = self._layers.exits
        tried: set[str] = set()
        while pool is not None:
            chosen = pool.choose(self.platform)
            if chosen is None or chosen.name in tried:
                return
            tried.add(chosen.name)
            yield Route(layer, chosen)

    def _holder(self, journal: Journal) -> PathKind | None:
        paths = [name for name in (journal.get(PATHS_KEY) or "").split(",") if name]
        if "browser" in paths:
            return "browser"
        return "api" if "api" in paths else None

    def _ask(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """Whether the post exists, from the first path that answers: the path holding the upload first
        (the browser's marker is only on the page), else the API, then the account's page."""
        holder = self._holder(journal)
        kinds: list[PathKind] = ["browser"] if holder == "browser" else ["api", "browser"]
        reasons: list[str] = []
        for kind in kinds:
            for layer in (layer for layer in self.order if layer != "manual" and path_kind(layer) == kind):
                if not self.available(layer):
                    continue
                for route in self._routes(layer):
                    try:
                        with self._publisher(route) as publisher:
                            return publisher.reconcile(post, journal)
                    except PlatformError as error:
                        if error.kind is not ErrorKind.AMBIGUOUS and reach_of(error) == "everywhere":
                            raise
                        reasons.append(Attempt(route, error).line)
        raise AmbiguousOutcomeError(
            self.platform,
            "no path could say whether the post exists (" + "; ".join(reasons or ["no path set up"]) + "); "
            "the ledger keeps the attempt and the next run asks again before posting",
        )

    @contextmanager
    def _publisher(self, route: Route) -> Iterator[Publisher]:
        proxy = route.exit.url if route.exit is not None else None
        build = self._layers.api if path_kind(route.layer) == "api" else self._layers.browser
        if build is None:
            raise PlatformError(self.platform, ErrorKind.POLICY, f"{route.layer}: not set up")
        try:
            publisher = build(proxy)
        except ValueError as error:  # an exit Chromium cannot use (a SOCKS5 exit with a password)
            raise PlatformError(
                self.platform, ErrorKind.RETRYABLE, f"cannot go through {route.label}: {error}"
            ) from None
        try:
            yield publisher
        finally:
            publisher.close()


class _Watched:
    """The ledger journal as one path sees it: the first id the path writes marks it as holding the
    upload (`fallback_paths`), so no other path starts one."""

    def __init__(self, journal: Journal, path: PathKind) -> None:
        self._journal = journal
        self._path = path

    def get(self, name: str) -> str | None:
        return self._journal.get(name)

    def put(self, name: str, value: str) -> None:
        if name not in OWN_KEYS:
            paths = [kind for kind in (self._journal.get(PATHS_KEY) or "").split(",") if kind]
            if self._path not in paths:
                self._journal.put(PATHS_KEY, ",".join([*paths, self._path]))
        self._journal.put(name, value)

    def set_state(self, state: str) -> None:
        self._journal.set_state(state)


def artifacts_of(error: PlatformError) -> list[Path]:
    """The folders of screenshots and traces a failure kept (a browser attempt's, or every one the
    chain made)."""
    if isinstance(error, FallbackExhaustedError):
        return list(error.artifacts)
    if isinstance(error, BrowserError) and error.artifacts is not None:
        return [error.artifacts]
    return []
