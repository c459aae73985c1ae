"""Publishing through a platform's own web upload page, as a PlatformClient does through its API.

`BrowserUploader` has the publisher's three calls: `check` (offline: the file, the words, the
declarations), `publish` and `reconcile`. It restores the account's stored session in a fresh Chromium,
follows the flow file's steps, and reads the post's URL from the public profile page, where `reconcile`
also looks (or from the link the page shows after Post, where the flow names one: YouTube's dialog).
The post's marker is journaled before anything is typed and the time of the Post click before the
click, so a run that dies anywhere after it is resolved by looking, never by posting again: a later
`publish` first looks on the profile, and while the click is recent (`confirm_grace_s`) and the
post not there yet it answers AMBIGUOUS rather than post a second time.

Failures are classified for the fallback chain: an expired session is AUTH `session_expired` ("log in
again", the session is marked so no browser opens again until someone does), a challenge is POLICY
`captcha`, a selector that no longer finds anything is POLICY `page_changed` naming it, a browser that
died or a network failure before the click is RETRYABLE and after it AMBIGUOUS. Every failure keeps a
screenshot, the page's HTML and a Playwright trace under `artifacts_dir`, named in the message.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pellacia_assets.rendering.errors import MediaError
from pellacia_assets.rendering.verify import verify_media
from resources.browser.challenge import Scope, keep_failure, logged_out, username_on, visible_challenge
from resources.browser.chromium import DEFAULT_EXECUTABLE, BrowserOptions, chromium, proxy_settings
from resources.browser.errors import BrowserError, BrowserUnavailableError
from resources.browser.flow import Flow, Step, load_flow
from resources.browser.marker import collapsed, markers_in, new_marker, same_caption, with_marker
from resources.browser.sessions import SessionLockTimeoutError, SessionStore, StoredSession
from resources.platforms.base import Journal, Progress, PublishedPost, VideoPost
from resources.platforms.errors import ErrorKind
from resources.platforms.limits import validate_copy
from resources.platforms.video_limits import video_problems

MARKER_KEY = "browser_marker"
CLICKED_KEY = "browser_clicked_at"
POLL_MS = 100


@dataclass(frozen=True)
class Pace:
    """Human-like pauses between actions: a random wait from `low_s` to `high_s` (zero: none)."""

    low_s: float = 0.0
    high_s: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Pace:
        """ "0.5-2" (seconds, from-to), "1" (exactly), "0" (none)."""
        low, _, high = text.strip().partition("-")
        try:
            pace = cls(float(low), float(high or low))
        except ValueError:
            raise ValueError(f"pace {text!r} is not seconds or a range of seconds like 0.5-2") from None
        if pace.low_s < 0 or pace.high_s < pace.low_s:
            raise ValueError(f"pace {text!r}: give a range from a smaller to a larger number of seconds")
        return pace

    def pause(self, page: Page) -> None:
        if self.high_s > 0:
            page.wait_for_timeout(random.uniform(self.low_s, self.high_s) * 1000)


@dataclass(frozen=True)
class SessionHealth:
    """What `pellacia-dist test browser` reports, and what publish checks before the first step."""

    stored: bool
    logged_in: bool = False
    upload_page: bool = False
    challenge: str | None = None
    username: str | None = None
    url: str | None = None
    browser: str | None = None
    launch_s: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.stored and self.logged_in and self.upload_page and self.challenge is None


class BrowserUploader:
    """One platform account's browser uploads. Parameters past `sessions`:

    `web_url` the site's root (the flow's, e.g. https://www.tiktok.com, unless a sandbox's); `proxy` an
    exit's URL; `artifacts_dir` where failures keep screenshots and traces; `options` the declarations
    (privacy level, AI content; the flow names them, PELLACIA_<PLATFORM>_* give them); `username` the
    account's user name on the site when it cannot be read from the page; `element_timeout_s` how long
    an element may take to appear (the flow's by default); `lock_timeout_s` how long to wait for another
    browser on the same account.
    """

    def __init__(
        self,
        platform: str,
        account: str,
        sessions: SessionStore,
        *,
        web_url: str | None = None,
        proxy: str | None = None,
        headless: bool = True,
        artifacts_dir: Path,
        pace: Pace = Pace(),
        flow: Flow | None = None,
        options: Mapping[str, str] | None = None,
        username: str | None = None,
        executable: Path = DEFAULT_EXECUTABLE,
        element_timeout_s: float | None = None,
        lock_timeout_s: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.platform = platform
        self.account = account
        self.sessions = sessions
        self.flow = flow or load_flow(platform)
        self.web_url = (web_url or self.flow.web_url).rstrip("/")
        self.proxy = proxy
        if proxy:
            proxy_settings(proxy)  # a proxy Chromium cannot use is refused now, not mid-upload
        self.headless = headless
        self.artifacts_dir = artifacts_dir
        self.pace = pace
        self.options = dict(options or {})
        self.username = username
        self.executable = executable
        self.element_timeout_s = element_timeout_s or self.flow.element_timeout_s
        self.lock_timeout_s = lock_timeout_s
        self.clock = clock

    # --- the PlatformClient calls ------------------------------------------------------------------

    def check(self, post: VideoPost) -> None:
        """What can be refused offline: the file and its type, the platform's video and copy rules (the
        caption measured with its marker), and the declarations the page asks for."""
        if not post.video.is_file():
            raise self._error(
                ErrorKind.INVALID_MEDIA, "missing_file", f"the video {post.video} does not exist"
            )
        if post.video.suffix.lower() not in self.flow.accept:
            raise self._error(
                ErrorKind.INVALID_MEDIA,
                "file_type",
                f"{post.video.name}: the web upload takes {', '.join(self.flow.accept)} files",
            )
        try:
            info = verify_media(post.video)
        except (MediaError, OSError) as error:
            reason = str(error).removeprefix(f"{post.video.name}: ")
            raise self._error(
                ErrorKind.INVALID_MEDIA, "unreadable", f"{post.video.name} is not a readable video: {reason}"
            ) from error
        caption = with_marker(post.caption_for(self.platform), "0" * 8, self.flow.marker)
        problems = video_problems(self.platform, info, post.size) + [
            problem.removeprefix(f"{self.platform}: ")
            for problem in validate_copy(self.platform, post.title, caption, post.hashtags)
        ]
        if problems:
            raise self._error(
                ErrorKind.INVALID_MEDIA, "rules", f"{post.video.name} cannot be posted: {'; '.join(problems)}"
            )
        for option in self.flow.options.values():
            self._option(option.name)

    def publish(self, post: VideoPost, journal: Journal, progress: Progress | None = None) -> PublishedPost:
        """Upload through the web page and return the post as the profile shows it."""
        self.check(post)
        stored = self._live_session()
        marker = journal.get(MARKER_KEY)
        if not marker:
            marker = new_marker()
            journal.put(MARKER_KEY, marker)
        caption = with_marker(post.caption_for(self.platform), marker, self.flow.marker)
        with self._locked(), self._browser(stored, "publish") as run:
            clicked = journal.get(CLICKED_KEY)
            if clicked:
                found = run.find_post(post, marker, wait_s=0.0)
                if found is not None:
                    run.keep_session("upload")
                    return found
                waited = self.clock() - float(clicked)
                if waited < self.flow.profile.confirm_grace_s:
                    raise self._error(
                        ErrorKind.AMBIGUOUS,
                        "post_unconfirmed",
                        f"Post was clicked {waited:.0f} s ago and the post is not on the profile yet; "
                        "look again later before posting again",
                    )
            run.open_upload()
            journal.set_state("uploading")
            run.follow_steps(post, caption, journal, progress)
            journal.set_state("processing")
            found = run.posted or run.find_post(post, marker, wait_s=self.flow.profile.appear_timeout_s)
            if found is None:
                raise self._error(
                    ErrorKind.AMBIGUOUS,
                    "post_not_found",
                    f"the page confirmed the post, but it was not on the profile after "
                    f"{self.flow.profile.appear_timeout_s:g} s; reconcile later",
                )
            run.keep_session("upload")
            return found

    def reconcile(self, post: VideoPost, journal: Journal) -> PublishedPost | None:
        """The post on the account's public profile (by the journaled marker, else by its caption among
        posts without a marker); None when it is not there."""
        stored = self.sessions.load(self.platform, self.account)
        with self._locked(), self._browser(stored, "reconcile") as run:
            return run.find_post(post, journal.get(MARKER_KEY), wait_s=0.0)

    def health(self) -> SessionHealth:
        """Launch, restore the session, open the upload page, and say what works."""
        stored = self.sessions.load(self.platform, self.account)
        if stored is None:
            return SessionHealth(stored=False, detail=f"no stored session: {self._login_hint()}")
        started = time.monotonic()
        with self._locked(), self._browser(stored, "health", keep_trace=False) as run:
            launch_s = time.monotonic() - started
            version = run.page.context.browser.version if run.page.context.browser else None
            run.page.goto(self.web_url + run.upload_path(), wait_until="domcontentloaded")
            url = run.page.url
            common: dict[str, Any] = {"stored": True, "url": url, "browser": version, "launch_s": launch_s}
            if run.logged_out():
                self.sessions.mark_expired(self.platform, self.account)
                return SessionHealth(**common, detail=f"the session has expired: {self._login_hint()}")
            challenge = visible_challenge(run.page, self.flow)
            if challenge is not None:
                return SessionHealth(
                    **common,
                    logged_in=True,
                    challenge=challenge,
                    detail=f"a challenge page is shown ({challenge})",
                )
            ready = run.scope_of_upload().locator(self.flow.ready).first
            try:
                ready.wait_for(state="attached", timeout=self.element_timeout_s * 1000)
            except PlaywrightTimeoutError:
                return SessionHealth(
                    **common,
                    logged_in=True,
                    detail=f"the upload page has no {self.flow.ready}: the page changed ({self.flow.source})",
                )
            username = run.username()
            if stored.expired_at is not None:
                self.sessions.save(self.platform, self.account, replace(stored, expired_at=None))
            return SessionHealth(
                **common, logged_in=True, upload_page=True, username=username, detail="ready to upload"
            )

    def close(self) -> None:
        """Nothing stays open between calls: each one starts and ends its own browser."""

    # --- shared machinery ------------------------------------------------------------------------------

    def _login_hint(self) -> str:
        account = "" if self.account == "default" else f" --account {self.account}"
        return f"log in again: pellacia-dist browser login {self.platform}{account}"

    def _error(self, kind: ErrorKind, code: str, message: str) -> BrowserError:
        return BrowserError(self.platform, kind, message, code=code)

    def _option(self, name: str) -> str:
        option = self.flow.options[name]
        value = (self.options.get(name) or option.default or "").strip()
        variable = f"PELLACIA_{self.platform.upper()}_{name.upper()}"
        if option.required and not value:
            raise self._error(
                ErrorKind.POLICY,
                "declaration_missing",
                f"{variable} is not set; the upload page asks for it explicitly, so there is no default "
                f"(one of {', '.join(option.labels)})",
            )
        if value and value.upper() in option.labels:
            value = value.upper()
        if value.lower() in option.labels:
            value = value.lower()
        if value not in option.labels:
            raise self._error(
                ErrorKind.POLICY,
                "declaration_unsupported",
                f"{variable}={value} cannot be chosen on the web upload page (it offers "
                f"{', '.join(option.labels)})",
            )
        return value

    def _live_session(self) -> StoredSession:
        stored = self.sessions.load(self.platform, self.account)
        if stored is None:
            raise self._error(
                ErrorKind.AUTH,
                "no_session",
                f"account '{self.account}' has no browser session; log in once: "
                f"{self._login_hint().removeprefix('log in again: ')}",
            )
        if stored.expired_at is not None:
            raise self._error(
                ErrorKind.AUTH,
                "session_expired",
                f"the browser session expired (seen {stored.expired_at}); {self._login_hint()}",
            )
        return stored

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            with self.sessions.lock(self.platform, self.account, self.lock_timeout_s):
                yield
        except SessionLockTimeoutError as error:
            raise self._error(ErrorKind.RETRYABLE, "browser_busy", str(error)) from None

    @contextmanager
    def _browser(self, stored: StoredSession | None, what: str, *, keep_trace: bool = True) -> Iterator[_Run]:
        """A fresh Chromium with the session restored; on any failure the screenshot, HTML and trace are
        kept and the error says where."""
        options = BrowserOptions(self.executable, self.headless, self.proxy)
        try:
            with chromium(options) as browser:
                context = browser.new_context(
                    storage_state=stored.storage_state if stored else None,  # type: ignore[arg-type]
                    locale="en-US",
                    viewport={"width": 1280, "height": 900},
                )
                if keep_trace:
                    context.tracing.start(screenshots=True, snapshots=True)
                page = context.new_page()
                page.set_default_timeout(self.element_timeout_s * 1000)
                page.set_default_navigation_timeout(max(60_000, self.element_timeout_s * 1000))
                run = _Run(self, page, context, stored)
                try:
                    yield run
                except BrowserError as error:
                    raise self._kept(error, run, what) from error
                except PlaywrightError as error:
                    raise self._kept(self._unexpected(error, run), run, what) from error
                if keep_trace:
                    context.tracing.stop()
                context.close()
        except BrowserUnavailableError as error:
            raise self._error(ErrorKind.POLICY, "browser_unavailable", str(error)) from None

    def _unexpected(self, error: PlaywrightError, run: _Run) -> BrowserError:
        """A Playwright failure no step classified: the browser died, the network failed, or the page
        broke a step's assumptions (the page changed)."""
        message = (error.message or str(error)).strip().splitlines()[0]
        if not run.alive() or "has been closed" in message or "crashed" in message.lower():
            if run.committed:
                return self._error(
                    ErrorKind.AMBIGUOUS,
                    "browser_crashed",
                    "the browser died after Post was clicked; reconcile before posting again",
                )
            return self._error(ErrorKind.RETRYABLE, "browser_crashed", f"the browser died: {message}")
        if "net::ERR_" in message:
            kind = ErrorKind.AMBIGUOUS if run.committed else ErrorKind.RETRYABLE
            return self._error(kind, "network", f"the site could not be reached: {message}")
        if run.committed:
            return self._error(ErrorKind.AMBIGUOUS, "post_unconfirmed", f"after Post was clicked: {message}")
        return self._error(
            ErrorKind.POLICY, "page_changed", f"the page did not behave as {self.flow.source} says: {message}"
        )

    def _kept(self, error: BrowserError, run: _Run, what: str) -> BrowserError:
        label = f"{self.platform}-{self.account}-{what}-{error.code}"
        kept = keep_failure(run.page, run.context, self.artifacts_dir, label)
        where = [f"screenshot: {kept.screenshot}"] if kept.screenshot else []
        where += [f"trace: {kept.trace}"] if kept.trace else []
        where += list(kept.notes)
        return BrowserError(
            self.platform,
            error.kind,
            f"{error.reason} ({'; '.join(where)})",
            code=error.code or "failed",
            screenshot=kept.screenshot,
            trace=kept.trace,
            artifacts=kept.folder,
        )


class _Run:
    """One browser session's work on the site: the pages, the steps, the profile."""

    def __init__(
        self, uploader: BrowserUploader, page: Page, context: BrowserContext, stored: StoredSession | None
    ):
        self.uploader = uploader
        self.flow = uploader.flow
        self.page = page
        self.context = context
        self.stored = stored
        self.committed = False
        self.posted: PublishedPost | None = None  # the post as the page named it after Post (a link)
        self._scope: Scope | None = None

    # --- page state ----------------------------------------------------------------------------------

    def fail(self, kind: ErrorKind, code: str, message: str) -> NoReturn:
        raise self.uploader._error(kind, code, message)

    def alive(self) -> bool:
        browser = self.context.browser
        return not self.page.is_closed() and browser is not None and browser.is_connected()

    def where(self) -> str:
        return urlsplit(self.page.url).path or "/"

    def stop_if_blocked(self) -> None:
        """A visible challenge, or the login page, ends the run with its own error."""
        challenge = visible_challenge(self.page, self.flow)
        if challenge is not None:
            after = (
                "; Post had been clicked, so look at the profile before posting by hand"
                if self.committed
                else ""
            )
            self.fail(
                ErrorKind.POLICY,
                "captcha",
                f"a challenge (captcha) appeared on {self.where()} ({challenge}); a person must solve it or "
                f"post by hand{after}",
            )
        if self.logged_out():
            self.uploader.sessions.mark_expired(self.uploader.platform, self.uploader.account)
            self.fail(
                ErrorKind.AUTH,
                "session_expired",
                f"the site sent the browser to its login page ({self.where()}); "
                f"{self.uploader._login_hint()}",
            )

    def logged_out(self) -> bool:
        """On a login page, or shown the flow's login form in place of the page asked for."""
        form = self.flow.session.login_form
        return logged_out(self.page, self.flow) or (form is not None and self.shown(form) is not None)

    def missing(self, step: Step, selector: str) -> NoReturn:
        """An element that did not show: a challenge or the login page explains it, else the page changed."""
        self.stop_if_blocked()
        if self.committed:
            self.fail(
                ErrorKind.AMBIGUOUS,
                "post_unconfirmed",
                f"after Post was clicked the {step.name} ({selector}) did not show on {self.where()}",
            )
        self.fail(
            ErrorKind.POLICY,
            "page_changed",
            f"the {step.name} ({selector}) is not on {self.where()}: the page changed; "
            f"update {self.flow.source}",
        )

    def scope_of_upload(self) -> Scope:
        """The upload form's frame when the page puts it in an iframe, else the page."""
        if self._scope is None:
            frame = self.flow.frame
            self._scope = (
                self.page.frame_locator(frame) if frame and self.page.locator(frame).count() else self.page
            )
        return self._scope

    def element(self, step: Step, selector: str, *, state: str = "visible") -> Locator:
        locator = self.scope_of_upload().locator(selector).first
        try:
            locator.wait_for(state=state, timeout=self.uploader.element_timeout_s * 1000)  # type: ignore[arg-type]
        except PlaywrightTimeoutError:
            self.missing(step, selector)
        return locator

    def shown(self, selector: str | None) -> Locator | None:
        """The first visible element `selector` finds (pages keep hidden copies of alerts and dialogs)."""
        if not selector:
            return None
        locator = self.scope_of_upload().locator(selector).filter(visible=True).first
        try:
            return locator if locator.count() else None
        except PlaywrightError:
            return None

    def keep_session(self, source: str) -> None:
        """Store the cookies as the site left them (platforms rotate them while a session is used)."""
        if self.stored is None:
            return
        state: dict[str, Any] = dict(self.context.storage_state())
        refreshed = replace(self.stored, storage_state=state, source=source, expired_at=None)
        self.uploader.sessions.save(self.uploader.platform, self.uploader.account, refreshed)

    # --- the upload ------------------------------------------------------------------------------------

    def upload_path(self) -> str:
        """The upload page's path; one under the account's own path ("/channel/{username}/...") needs
        the user name first."""
        if "{username}" in self.flow.pages.upload:
            return self.flow.path("upload", username=self.username())
        return self.flow.path("upload")

    def open_upload(self) -> None:
        self.page.goto(self.uploader.web_url + self.upload_path(), wait_until="domcontentloaded")
        self.stop_if_blocked()
        self.element(Step("wait", "upload page"), self.flow.ready, state="attached")

    def follow_steps(
        self, post: VideoPost, caption: str, journal: Journal, progress: Progress | None
    ) -> None:
        actions: dict[str, Callable[[Step], None]] = {
            "set_file": lambda step: self.element(
                step, step.selector or "", state="attached"
            ).set_input_files(str(post.video)),
            "wait_upload": lambda step: self.wait_upload(step, post.size, progress),
            "type": lambda step: self.type(step, (step.text or "").format(caption=caption, title=post.title)),
            "choose": self.choose,
            "pick": self.pick,
            "click_if_present": self.click_if_present,
            "switch": self.switch,
            "wait_enabled": self.wait_enabled,
            "click": lambda step: self.click(step, journal),
            "confirm": self.confirm_and_read,
        }
        for step in self.flow.steps:
            actions[step.do](step)
            self.uploader.pace.pause(self.page)

    def wait_upload(self, step: Step, size: int, progress: Progress | None) -> None:
        deadline = time.monotonic() + (step.timeout_s or 900.0)
        reported = -1
        while time.monotonic() < deadline:
            refused = self.shown(step.error)
            if refused is not None:
                # the file passed check() already, so what the page says is most likely passing
                self.fail(
                    ErrorKind.RETRYABLE,
                    "upload_failed",
                    f"the upload failed: {collapsed(refused.inner_text()) or 'the page gave no reason'}",
                )
            if self.shown(step.done) is not None:
                if progress is not None:
                    progress(size, size)
                return
            bar = self.shown(step.progress)
            if bar is not None and progress is not None:
                try:
                    value = bar.get_attribute("aria-valuenow", timeout=POLL_MS)
                except PlaywrightError:  # the bar went between the look and the read: the upload moved on
                    value = None
                percent = _percent(value)
                if percent is not None and percent != reported:
                    reported = percent
                    progress(size * percent // 100, size)
            self.stop_if_blocked()
            self.page.wait_for_timeout(POLL_MS)
        self.fail(
            ErrorKind.RETRYABLE,
            "upload_stalled",
            f"the upload did not finish within {step.timeout_s or 900.0:g} s ({step.done} never showed)",
        )

    def type(self, step: Step, text: str) -> None:
        """Click into the editor, clear it, insert the text as one input (a paste, as a person does; a
        rich editor ignores text set from script) and check that it took it."""
        editor = self.element(step, step.selector or "")
        editor.click()
        if step.clear:
            self.page.keyboard.press("Control+A")
            self.page.keyboard.press("Delete")
        self.uploader.pace.pause(self.page)
        self.page.keyboard.insert_text(text)
        if collapsed(text) not in collapsed(editor.inner_text()):
            self.fail(
                ErrorKind.POLICY,
                "page_changed",
                f"the {step.name} ({step.selector}) did not take the text typed into it; "
                f"update {self.flow.source}",
            )

    def choose(self, step: Step) -> None:
        value = self.uploader._option(step.value or "")
        label = self.flow.options[step.value or ""].labels[value]
        self.element(step, step.open or "").click()
        self.uploader.pace.pause(self.page)
        self.element(step, (step.option or "").format(label=label)).click()

    def pick(self, step: Step) -> None:
        """Click the option (a radio button) showing the declaration's label; with `attribute`, check
        that the option says it is now chosen (aria-checked="true")."""
        value = self.uploader._option(step.value or "")
        label = self.flow.options[step.value or ""].labels[value]
        selector = (step.option or "").format(label=label)
        target = self.element(step, selector)
        target.click()
        if step.attribute and target.get_attribute(step.attribute) != "true":
            self.fail(
                ErrorKind.POLICY,
                "page_changed",
                f"the {step.name} ({selector}) was not chosen by a click; update {self.flow.source}",
            )

    def click_if_present(self, step: Step) -> None:
        locator = self.scope_of_upload().locator(step.selector or "").first
        try:
            locator.wait_for(state="visible", timeout=(step.timeout_s or 3.0) * 1000)
        except PlaywrightTimeoutError:
            return
        locator.click()

    def switch(self, step: Step) -> None:
        wanted = self.uploader._option(step.value or "") == "true"
        toggle = self.element(step, step.selector or "")
        attribute = step.attribute or "aria-checked"
        if (toggle.get_attribute(attribute) == "true") != wanted:
            toggle.click()
        if (toggle.get_attribute(attribute) == "true") != wanted:
            self.fail(
                ErrorKind.POLICY,
                "page_changed",
                f"the {step.name} ({step.selector}) did not switch {'on' if wanted else 'off'}; "
                f"update {self.flow.source}",
            )

    def wait_enabled(self, step: Step) -> None:
        button = self.element(step, step.selector or "")
        deadline = time.monotonic() + (step.timeout_s or 600.0)
        while button.get_attribute(step.attribute or "") != step.enabled:
            self.stop_if_blocked()
            if time.monotonic() > deadline:
                self.fail(
                    ErrorKind.RETRYABLE,
                    "not_ready",
                    f"the {step.name} stayed disabled for {step.timeout_s or 600.0:g} s (the video was "
                    "still being checked)",
                )
            self.page.wait_for_timeout(POLL_MS)

    def click(self, step: Step, journal: Journal) -> None:
        target = self.element(step, step.selector or "")
        self.stop_if_blocked()
        if step.commit:
            journal.put(CLICKED_KEY, f"{self.uploader.clock():.3f}")
            self.committed = True
        target.click()

    def confirm_and_read(self, step: Step) -> None:
        """`confirm`, then the post's URL from the page's `link` when the step names one (a dialog that
        shows the new post's address); without one the post is looked up on the profile."""
        self.confirm(step)
        if step.link:
            self.posted = self.linked_post(step.link)

    def linked_post(self, selector: str) -> PublishedPost | None:
        """The post `selector`'s link names, by the profile's id pattern; None when the page shows no
        such link (the profile is asked instead)."""
        link = self.scope_of_upload().locator(selector).first
        try:
            link.wait_for(state="visible", timeout=self.uploader.element_timeout_s * 1000)
            href = link.get_attribute("href") or collapsed(link.inner_text())
        except PlaywrightError:
            return None
        post_id = re.search(self.flow.profile.id_pattern, href)
        if post_id is None:
            return None
        return PublishedPost(self.uploader.platform, post_id.group(1), urljoin(self.page.url, href))

    def confirm(self, step: Step) -> None:
        """Wait until the page says the post went through: it moved to `url`, or shows one of `texts`;
        a button of `click_when_shown` that appears meanwhile (a "post anyway?" dialog) is clicked."""
        timeout_s = step.timeout_s or 120.0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                for selector in step.click_when_shown:
                    button = self.shown(selector)
                    if button is not None:
                        button.click()
                if step.url and self.where() == step.url:
                    return
                if any(self.page.get_by_text(text).first.is_visible() for text in step.texts):
                    return
                refused = self.shown(step.error)
                message = collapsed(refused.inner_text()) if refused is not None else ""
                if any(text in message for text in step.texts):
                    return  # a toast that shows success and refusals alike, appearing just now
            except PlaywrightError:
                if not self.alive():
                    raise
                self.page.wait_for_timeout(POLL_MS)  # the page was navigating: look again
                continue
            self.stop_if_blocked()
            if refused is not None:
                self.fail(
                    ErrorKind.AMBIGUOUS,
                    "post_unconfirmed",
                    f"the page answered the Post click with {message!r}; reconcile before posting again",
                )
            self.page.wait_for_timeout(POLL_MS)
        self.fail(
            ErrorKind.AMBIGUOUS,
            "post_unconfirmed",
            f"no confirmation within {timeout_s:g} s of clicking Post; reconcile before posting again",
        )

    # --- the profile -------------------------------------------------------------------------------------

    def username(self) -> str:
        """The account's user name: given, stored with the session, or read from the site (then stored)."""
        known = self.uploader.username or (self.stored.username if self.stored else None)
        if known:
            return known
        found = username_on(self.page, self.flow, self.uploader.web_url) or self.username_by_pattern()
        if found is None:
            self.stop_if_blocked()
            self.fail(
                ErrorKind.POLICY,
                "username_unknown",
                f"cannot tell the account's user name on the site; set "
                f"PELLACIA_{self.uploader.platform.upper()}_WEB_USERNAME",
            )
        if self.stored is not None:
            self.stored = replace(self.stored, username=found)
            self.uploader.sessions.save(self.uploader.platform, self.uploader.account, self.stored)
        return found

    def username_by_pattern(self) -> str | None:
        """The user name by the flow's `username_pattern`, for sites whose profile links are not /@name:
        searched in the home page's profile link, then in the address the home page ended on (a site
        that redirects to /channel/<id>/)."""
        pattern = self.flow.session.username_pattern
        if pattern is None:
            return None
        self.page.goto(self.uploader.web_url + self.flow.path("home"), wait_until="domcontentloaded")
        places: list[str] = []
        if self.flow.session.profile_link:
            link = self.page.locator(self.flow.session.profile_link).first
            try:
                link.wait_for(state="attached", timeout=self.uploader.element_timeout_s * 1000)
                places.append(link.get_attribute("href") or "")
            except PlaywrightError:
                pass
        places.append(self.page.url)
        found = next((match for place in places if (match := re.search(pattern, place))), None)
        return found.group(1) if found else None

    def find_post(self, post: VideoPost, marker: str | None, *, wait_s: float) -> PublishedPost | None:
        """The post on the public profile: the tile carrying `marker`, else an unmarked tile showing the
        caption. Reloads every `reload_s` for up to `wait_s` (a new post shows once processed)."""
        rules = self.flow.profile
        profile_url = self.uploader.web_url + self.flow.path("profile", username=self.username())
        caption = post.caption_for(self.uploader.platform)
        deadline = time.monotonic() + wait_s
        while True:
            self.page.goto(profile_url, wait_until="domcontentloaded")
            self.stop_if_blocked()  # a profile behind the login must not read as "not posted"
            tiles = self._tiles()
            match = next((href for href, shown in tiles if marker and marker in markers_in(shown)), None)
            if match is None:
                match = next(
                    (href for href, shown in tiles if not markers_in(shown) and same_caption(shown, caption)),
                    None,
                )
            if match is not None:
                post_id = re.search(rules.id_pattern, match)
                if post_id is None:
                    self.fail(
                        ErrorKind.POLICY,
                        "page_changed",
                        f"the profile's post link {match} has no id matching {rules.id_pattern}; update "
                        f"{self.flow.source}",
                    )
                return PublishedPost(self.uploader.platform, post_id.group(1), urljoin(self.page.url, match))
            if time.monotonic() + rules.reload_s > deadline:
                return None
            self.page.wait_for_timeout(rules.reload_s * 1000)

    def _tiles(self) -> list[tuple[str, str]]:
        """(link, caption text) of every post tile on the profile page."""
        rules = self.flow.profile
        self.page.locator("body").wait_for(state="attached")
        tiles: list[tuple[str, str]] = []
        for item in self.page.locator(rules.item).all():
            href = (
                item.locator(rules.link).first.get_attribute("href")
                if item.locator(rules.link).count()
                else None
            )
            holder = item.locator(rules.caption).first
            if not href or not holder.count():
                continue
            shown = (
                holder.get_attribute(rules.caption_attribute)
                if rules.caption_attribute
                else holder.inner_text()
            )
            tiles.append((href, shown or ""))
        return tiles


def _percent(value: str | None) -> int | None:
    try:
        return max(0, min(100, int(float(value or ""))))
    except ValueError:
        return None
