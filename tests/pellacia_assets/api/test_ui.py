"""The editorial page in real Chromium (Playwright, Debian's /usr/bin/chromium) against a real uvicorn
server: log in with a token, decide on pending stories, work the manual queue. The refusals (CSRF, role,
session) are also driven with httpx, which can send what a browser would not."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest
import uvicorn
import yaml
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets import editorial
from pellacia_assets.api.app import create_app
from pellacia_assets.settings import Settings
from pellacia_assets.stories.loading import SourceRecord
from pellacia_assets.stories.model import Byline
from resources.browser.chromium import BrowserOptions, chromium
from resources.database.engine import open_database, transaction
from resources.database.intake import admit
from resources.database.manual import open_entry
from resources.database.models import LedgerEntry, QueuedPost
from resources.database.resource import DatabaseResource

TOKENS = {
    "editor": {"name": "erin", "token": "editor-token-4f1b9c2d7e", "role": "editor"},
    "viewer": {"name": "vic", "token": "viewer-token-8a3e5d1c0b", "role": "viewer"},
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Served:
    url: str
    settings: Settings
    factory: sessionmaker[Session]
    tokens_file: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Iterator[Served]:
    """The API (with the page) on a free port of 127.0.0.1, in a thread, over a private PELLACIA_HOME."""
    folder = tmp_path_factory.mktemp("ui")
    tokens_file = folder / "tokens.yaml"
    tokens_file.write_text(yaml.safe_dump(list(TOKENS.values())))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PELLACIA_HOME", str(folder / "home"))
        for name in ("PELLACIA_POSTGRES_URL", "PELLACIA_DATABASE_URL", "DAGSTER_HOME", "PELLACIA_API_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("PELLACIA_MODELS_DIR", str(shared_models))
        env.setenv("PELLACIA_CACHE_DIR", str(shared_models / "cache"))
        env.setenv("PELLACIA_API_TOKENS_FILE", str(tokens_file))
        env.setenv("PELLACIA_API_RATE", "off")
        env.setenv("PELLACIA_SECRET_KEY", Fernet.generate_key().decode())
        settings = Settings.from_env()
        uvicorn_server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
        )
        thread = threading.Thread(target=uvicorn_server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not uvicorn_server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
        try:
            yield Served(
                f"http://127.0.0.1:{port}", settings, open_database(settings.database_url), tokens_file
            )
        finally:
            uvicorn_server.should_exit = True
            thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(BrowserOptions()) as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def pending_story(
    server: Served,
    key: str,
    title: str = "My neighbour's cat visits every morning",
    url: str | None = None,
    platforms: tuple[str, ...] = (),
) -> str:
    record = SourceRecord(
        key=key,
        source_kind="reddit",
        source_ref=f"t3_{key}",
        title=title,
        body=(
            "Every morning at seven a grey cat sits on my windowsill and waits. I never fed it. Today I "
            "learned it belongs to the old man downstairs, who sends it up to check that I am awake."
        ),
        url=url or f"https://www.reddit.com/r/tifu/comments/{key}/",
        platforms=platforms,
        byline=Byline(kind="reddit", site="tifu", author="u/sleepy_reader", score=1234, comments=56),
    )
    with transaction(server.factory) as session:
        assert admit(session, record, approval="pending").outcome == "added"
    return key


def log_in(page: Page, server: Served, who: str) -> None:
    page.goto(f"{server.url}/ui/login")
    page.get_by_label("API token").fill(TOKENS[who]["token"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_have_text(f"logged in as {TOKENS[who]['name']} ({who})")
    assert page.url == f"{server.url}/ui"


def story_card(page: Page, key: str) -> Locator:
    return page.locator(f'#pending article[data-key="{key}"]')


@contextmanager
def logged_in(server: Served, who: str) -> Iterator[tuple[httpx.Client, str]]:
    """An httpx client holding a page session of `who`, and the CSRF token of its forms."""
    with httpx.Client(base_url=server.url) as client:
        yield client, _log_in_client(client, who)


def _log_in_client(client: httpx.Client, who: str) -> str:
    form = client.get("/ui/login")
    login_csrf = CSRF.search(form.text)
    assert login_csrf is not None
    answer = client.post("/ui/login", data={"csrf": login_csrf.group(1), "token": TOKENS[who]["token"]})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui"
    dashboard = client.get("/ui")
    csrf = CSRF.search(dashboard.text)
    assert dashboard.status_code == 200 and csrf is not None
    return csrf.group(1)


# --- in Chromium --------------------------------------------------------------------------------------


def test_an_editor_logs_in_sees_a_pending_story_and_approves_it(server: Served, page: Page) -> None:
    key = pending_story(server, "reddit-t3_cat01")
    log_in(page, server, "editor")
    card = story_card(page, key)
    expect(card.get_by_role("heading")).to_have_text("My neighbour's cat visits every morning")
    expect(card).to_contain_text("reddit")
    expect(card).to_contain_text("r/tifu by u/sleepy_reader · 1234 points · 56 comments")
    link = card.get_by_role("link", name=f"https://www.reddit.com/r/tifu/comments/{key}/")
    expect(link).to_have_attribute("href", f"https://www.reddit.com/r/tifu/comments/{key}/")
    body = card.get_by_text("Every morning at seven a grey cat")
    expect(body).to_be_hidden()  # collapsed until asked for
    card.get_by_text("Text (").click()
    expect(body).to_be_visible()

    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_have_text(f"approved: {key} — it will be produced shortly")
    expect(story_card(page, key)).to_have_count(0)
    approved = page.locator(f'#approved tr[data-key="{key}"]')
    expect(approved.locator(".production")).to_have_text("waiting to be produced")
    expect(approved).to_contain_text("by erin")
    story = editorial.get_story(server.factory, key)
    assert (story.approval, story.approval_by) == ("approved", "erin")
    page.reload()  # the message was for one page only
    expect(page.get_by_role("status")).to_have_count(0)


def test_an_editor_rejects_a_story_with_a_reason(server: Served, page: Page) -> None:
    key = pending_story(server, "reddit-t3_rej01")
    log_in(page, server, "editor")
    card = story_card(page, key)
    card.get_by_label(f"reason for rejecting {key}").fill("a repost of last week's story")
    card.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_have_text(f"rejected: {key} (a repost of last week's story)")
    expect(story_card(page, key)).to_have_count(0)
    story = editorial.get_story(server.factory, key)
    assert (story.approval, story.approval_note, story.approval_by) == (
        "rejected",
        "a repost of last week's story",
        "erin",
    )


def test_breaking_news_is_flagged_from_the_page(server: Served, page: Page) -> None:
    key = pending_story(server, "reddit-t3_brk01")
    log_in(page, server, "editor")
    story_card(page, key).get_by_role("button", name="Breaking news").click()
    expect(page.get_by_role("status")).to_have_text(
        f"breaking news: {key} — 0 waiting posts moved to the breaking lane; later posts start there"
    )
    expect(story_card(page, key).locator(".badge.breaking")).to_have_text("breaking")
    assert editorial.get_story(server.factory, key).priority == "breaking"


def test_a_story_decided_meanwhile_is_a_409_message_not_an_error(server: Served, page: Page) -> None:
    key = pending_story(server, "reddit-t3_twice")
    log_in(page, server, "editor")
    editorial.approve_story(server.factory, key, "someone-else")  # while the page is open
    with page.expect_response(lambda response: response.url.endswith("/approve")) as answer:
        story_card(page, key).get_by_role("button", name="Approve").click()
    assert answer.value.status == 409
    expect(page.locator(".flash.error")).to_have_text(
        f"story '{key}' is already approved; nothing was changed"
    )
    expect(story_card(page, key)).to_have_count(0)
    assert editorial.get_story(server.factory, key).approval_by == "someone-else"


def test_story_text_is_shown_escaped_and_never_runs(server: Served, page: Page) -> None:
    title = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    key = pending_story(server, "reddit-t3_xss01", title=title, url="javascript:window.pwned=3")
    log_in(page, server, "editor")
    card = story_card(page, key)
    expect(card.get_by_role("heading")).to_have_text(title)
    expect(card.get_by_role("link")).to_have_count(0)  # a javascript: URL is never a link
    expect(card).to_contain_text("javascript:window.pwned=3")
    assert page.evaluate("window.pwned") is None
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page.content()


def test_a_wrong_token_is_refused_and_leaves_no_session(server: Served, page: Page) -> None:
    page.goto(f"{server.url}/ui")
    assert page.url == f"{server.url}/ui/login"
    page.get_by_label("API token").fill("not-a-token")
    with page.expect_response(lambda response: response.url.endswith("/ui/login")) as answer:
        page.get_by_role("button", name="Log in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("that token is not valid")
    assert [c["name"] for c in page.context.cookies() if c["name"] == "pellacia_session"] == []
    page.goto(f"{server.url}/ui")
    assert page.url == f"{server.url}/ui/login"


def test_the_session_cookie_is_http_only_strict_and_holds_no_token(server: Served, page: Page) -> None:
    log_in(page, server, "editor")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "pellacia_session"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/ui")
    assert TOKENS["editor"]["token"] not in cookie["value"]
    assert page.evaluate("document.cookie") == ""
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("logged out")
    assert page.url == f"{server.url}/ui/login"
    page.goto(f"{server.url}/ui")
    assert page.url == f"{server.url}/ui/login"


def test_a_viewer_sees_the_stories_but_cannot_decide(server: Served, page: Page) -> None:
    key = pending_story(server, "reddit-t3_view1")
    log_in(page, server, "viewer")
    card = story_card(page, key)
    expect(card.get_by_role("heading")).to_be_visible()
    expect(card.get_by_role("button")).to_have_count(0)
    with logged_in(server, "viewer") as (client, csrf):
        answer = client.post(f"/ui/stories/{key}/approve", data={"csrf": csrf})
    assert answer.status_code == 403
    assert "this needs the editor role; the token &#39;vic&#39; is viewer" in answer.text
    assert editorial.get_story(server.factory, key).approval == "pending"


def test_the_manual_queue_downloads_its_export_and_resolves_from_the_page(
    server: Served, page: Page, tmp_path: Path
) -> None:
    quarantine = tmp_path / "phase05" / "quarantine"
    quarantine.mkdir(parents=True)
    (quarantine / "broken-clip.mp4").write_bytes(b"not really a video")
    key = pending_story(server, "reddit-t3_man01")
    editorial.approve_story(server.factory, key, "erin")
    with transaction(server.factory) as session:
        file_entry = open_entry(
            session, "quarantined", "the file is not a video", source_path=str(quarantine / "broken-clip.mp4")
        ).id
        post_entry = open_entry(
            session,
            "reauth",
            "YouTube refused the token",
            story_key=key,
            platform="youtube",
            account="default",
        ).id
    log_in(page, server, "editor")

    entry = page.locator(f'#manual article[data-id="{file_entry}"]')
    expect(entry).to_contain_text("the file is not a video")
    with page.expect_download() as download:
        entry.get_by_role("link", name="Download export (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert {"broken-clip.mp4", "INSTRUCTIONS.md"} <= set(archive.namelist())
    assert archive.read("broken-clip.mp4") == b"not really a video"

    # an entry with nothing to export yet is a message on the page
    with page.expect_response(lambda response: response.url.endswith(f"/{post_entry}/export.zip")) as answer:
        page.locator(f'#manual article[data-id="{post_entry}"]').get_by_role("link").click()
    assert answer.value.status == 409
    expect(page.locator(".flash.error")).to_contain_text(
        f"manual entry {post_entry}: nothing to post by hand yet"
    )

    post = page.locator(f'#manual article[data-id="{post_entry}"]')
    with page.expect_response(lambda response: response.url.endswith("/resolve")) as answer:
        post.get_by_role("button", name="Resolve").click()
    assert answer.value.status == 422
    expect(page.locator(".flash.error")).to_have_text(
        f"manual entry {post_entry} is a post on youtube: give the `url` of the post"
    )
    post.get_by_label(f"post URL for entry {post_entry}").fill("https://www.youtube.com/shorts/abcDEF12345")
    post.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_have_text(
        f"resolved manual entry {post_entry}: {key} is live at https://www.youtube.com/shorts/abcDEF12345"
    )
    expect(post).to_have_count(0)
    live = page.locator(f'#posts tr[data-key="{key}"]')
    expect(live).to_contain_text("published")
    expect(live.get_by_role("link")).to_have_attribute("href", "https://www.youtube.com/shorts/abcDEF12345")


# --- refusals, with httpx -------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused(server: Served) -> None:
    key = pending_story(server, "reddit-t3_csrf1")
    with logged_in(server, "editor") as (client, csrf), logged_in(server, "editor") as (_, other_csrf):
        for data in (
            {},
            {"csrf": ""},
            {"csrf": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")},
            {"csrf": other_csrf},
        ):
            answer = client.post(f"/ui/stories/{key}/approve", data=data)
            assert answer.status_code == 403, data
            assert "the form&#39;s security token is missing or wrong" in answer.text
        assert client.post(f"/ui/stories/{key}/approve", json={"csrf": csrf}).status_code == 403
        assert editorial.get_story(server.factory, key).approval == "pending"
        assert client.post(f"/ui/stories/{key}/approve", data={"csrf": csrf}).status_code == 303
    assert editorial.get_story(server.factory, key).approval == "approved"


def test_login_needs_its_own_form_and_posts_need_a_session(server: Served) -> None:
    key = pending_story(server, "reddit-t3_anon1")
    with httpx.Client(base_url=server.url) as client:
        forged = client.post("/ui/login", data={"csrf": "x", "token": TOKENS["editor"]["token"]})
        assert forged.status_code == 403 and "pellacia_session" not in client.cookies
        answer = client.post(f"/ui/stories/{key}/approve", data={"csrf": "x"})
        assert answer.status_code == 401 and "log in again" in answer.text
        assert client.get("/ui").headers["location"] == "/ui/login"
        assert client.get("/ui/manual/1/export.zip").headers["location"] == "/ui/login"
    assert editorial.get_story(server.factory, key).approval == "pending"


def test_a_session_cookie_raised_to_another_role_is_no_session(server: Served) -> None:
    with logged_in(server, "viewer") as (client, _csrf):
        body, mac = client.cookies["pellacia_session"].split(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        assert payload["role"] == "viewer"
        raised = base64.urlsafe_b64encode(json.dumps({**payload, "role": "editor"}).encode()).decode()
        client.cookies.set("pellacia_session", f"{raised.rstrip('=')}.{mac}", domain="127.0.0.1", path="/ui")
        assert client.get("/ui").headers["location"] == "/ui/login"
        client.cookies.set("pellacia_session", f"{body}.{mac}", domain="127.0.0.1", path="/ui")
        assert client.get("/ui").status_code == 200


def test_bad_input_is_a_message_never_a_500(server: Served) -> None:
    key = pending_story(server, "reddit-t3_bad01")
    with logged_in(server, "editor") as (client, csrf):
        unknown = client.post("/ui/stories/no-such-story/approve", data={"csrf": csrf})
        assert unknown.status_code == 404 and "no story &#39;no-such-story&#39;" in unknown.text
        odd = client.post("/ui/stories/a%00b/approve", data={"csrf": csrf})
        assert odd.status_code == 404
        empty = client.post(f"/ui/stories/{key}/reject", data={"csrf": csrf, "reason": "   "})
        assert empty.status_code == 422 and "reason" in empty.text
        nul = client.post(f"/ui/stories/{key}/reject", data={"csrf": csrf, "reason": "bad\x00reason"})
        assert nul.status_code == 422
        missing = client.post("/ui/manual/999999/resolve", data={"csrf": csrf, "post_url": ""})
        assert missing.status_code == 404 and "no manual entry with id 999999" in missing.text
        assert client.get("/ui/manual/999999/export.zip").status_code == 404
    assert editorial.get_story(server.factory, key).approval == "pending"


def test_pages_forbid_scripts_and_framing(server: Served) -> None:
    with logged_in(server, "viewer") as (client, _csrf):
        answer = client.get("/ui")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


def test_a_session_ends_when_its_token_is_removed(server: Served) -> None:
    temporary = {"name": "tempo", "token": "temporary-token-77aa66bb", "role": "editor"}
    TOKENS["temporary"] = temporary
    server.tokens_file.write_text(yaml.safe_dump(list(TOKENS.values())))
    try:
        with logged_in(server, "temporary") as (client, _csrf):
            assert client.get("/ui").status_code == 200
            del TOKENS["temporary"]
            time.sleep(0.01)  # a new modification time
            server.tokens_file.write_text(yaml.safe_dump(list(TOKENS.values())))
            assert client.get("/ui").headers["location"] == "/ui/login"
    finally:
        TOKENS.pop("temporary", None)
        server.tokens_file.write_text(yaml.safe_dump(list(TOKENS.values())))


# --- end to end: approved in the page, produced by the sensor, queued ---------------------------------


@pytest.mark.e2e
def test_a_story_approved_in_the_page_is_produced_and_queued(
    server: Served, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pellacia_assets.definitions import defs
    from sensors.sources import approved_stories

    monkeypatch.setenv("PELLACIA_WHISPER_MODEL", "tiny.en")
    monkeypatch.setenv("PELLACIA_RENDER_PRESET", "ultrafast")
    key = pending_story(server, "reddit-t3_e2e01", platforms=("youtube",))
    log_in(page, server, "editor")
    story_card(page, key).get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_have_text(f"approved: {key} — it will be produced shortly")

    with dg.instance_for_test() as instance:
        database = DatabaseResource(url=server.settings.database_url)
        tick = approved_stories(dg.build_sensor_context(instance=instance, resources={"database": database}))
        assert isinstance(tick, dg.SensorResult)
        [request] = [r for r in tick.run_requests or [] if r.partition_key == key]
        for added in tick.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions("story", list(added.partition_keys or []))
        production = defs().resolve_job_def("production")
        result = production.execute_in_process(partition_key=key, instance=instance, tags=request.tags)
        assert result.success

    with transaction(server.factory) as session:
        queued = list(session.scalars(select(QueuedPost).where(QueuedPost.story_key == key)))
        assert session.scalars(select(LedgerEntry).where(LedgerEntry.story_key == key)).first() is None
    assert queued and {(row.platform, row.state) for row in queued} == {("youtube", "queued")}
    page.reload()
    expect(page.locator(f'#approved tr[data-key="{key}"] .production')).to_have_text("produced")
    expect(page.locator(f'#queue tr[data-key="{key}"]')).to_have_count(len(queued))
    expect(page.locator(f'#queue tr[data-key="{key}"]').first).to_contain_text("youtube")
