"""A SANDBOX of TikTok's web pages for browser automation: never used by production code paths.

It follows the structure and behaviour of the real www.tiktok.com pages as the maintained open-source
uploaders drive them (wkaisertexas/tiktok-uploader, dreammis/social-auto-upload; the data-e2e names
and classes below are theirs, and the captcha wrappers are those gbiz123/tiktok-captcha-solver detects):

- `/login` offers "Use QR code" (`/login/qrcode`: a code the page polls until a phone approves it) and
  email/password (`/login/phone-or-email/email`); a login sets the `sessionid` cookie.
- `/tiktokstudio/upload` (TikTok Studio) sends a visitor without a live session to
  `/login?redirect_url=...`. With one it shows "Select video" over a hidden `input[type=file]`; picking a
  file uploads it at once (XHR with progress), the caption editor (a Draft.js-like contenteditable that
  only notices real input events, pre-filled with the file's name as TikTok does) appears, processing
  runs (ffprobe on the received file; a resolution label once done, an error for a file that is no
  video), the visibility combobox (Everyone / Friends / Only you), "Show more" with the AI-generated
  content switch, and a Post button whose `data-disabled` turns "false" once processing is done. While the
  content check still runs, Post asks "Continue to post?" (Post now). A post confirms with a toast, then
  the page moves to `/tiktokstudio/content`.
- `/@<user>` is the public profile: `[data-e2e="user-post-item"]` tiles linking to `/@<user>/video/<id>`,
  the caption in the thumbnail's alt text, newest first; a post shows there once processed.
- A challenge (TikTok's captcha overlay, `.captcha-verify-container`) is shown on demand instead of a
  page, or in answer to a Post click.

Tests steer it from Python: expire sessions, approve a QR login, ask for a challenge, hold the content
check, rename a `data-e2e` (a redesign), drop the post request after committing it, and read the posts
with the sha256 of each stored video.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sandbox.common import Request, Response, Route
from sandbox.tiktok import probe_video
from sandbox.web.pages import (
    Challenges,
    QrLogins,
    Sessions,
    WebSandbox,
    cleared_cookie,
    login_location,
    redirect,
    safe_return,
    session_cookie,
    text,
)

WWW_HOST = "www.tiktok.com"
SESSION_COOKIE = "sessionid"
LOGIN = "/login"
UPLOAD = "/tiktokstudio/upload"
CONTENT = "/tiktokstudio/content"
VISIBILITY = ("Everyone", "Friends", "Only you")
CONFIRMATION = "Your video has been uploaded"
FIRST_ITEM_ID = 7_400_000_000_000_000_000


@dataclass
class Upload:
    upload_id: str
    user: str
    path: Path
    size: int = 0
    sha256: str = ""
    received: bool = False
    resolution: str | None = None
    failure: str | None = None
    content_check_running: bool = False


@dataclass
class WebPost:
    item_id: str
    user: str
    caption: str
    visibility: str
    aigc: bool
    sha256: str
    size: int
    created_at: float

    def url(self, base_url: str) -> str:
        return f"{base_url}/@{self.user}/video/{self.item_id}"


class TikTokWebSandbox(WebSandbox):
    """www.tiktok.com's login, TikTok Studio upload and profile pages for one account.

    `processing_s`: how long a post takes to show on the profile after it was made.
    """

    name = "tiktok-web"
    roots: ClassVar[Mapping[str, str]] = {"api": WWW_HOST}

    def __init__(
        self,
        data_dir: Path,
        *,
        username: str = "pellacia.sandbox",
        password: str = "sandbox-password",
        nickname: str = "Pellacia Press",
        processing_s: float = 0.0,
    ) -> None:
        super().__init__(data_dir)
        self.username = username
        self.password = password
        self.nickname = nickname
        self.processing_s = processing_s
        self.sessions = Sessions(SESSION_COOKIE)
        self.qr = QrLogins()
        self.challenges = Challenges()
        self._uploads: dict[str, Upload] = {}
        self._posts: list[WebPost] = []
        self._content_checks = 0
        self._state = threading.Lock()

    def routes(self) -> Sequence[Route]:
        return [
            ("GET", "/", "home", self._home),
            ("GET", LOGIN, "login", self._login_choice),
            ("GET", "/login/qrcode", "login_qr", self._login_qr),
            ("GET", "/passport/web/check_qrconnect/", "qr_check", self._qr_check),
            ("GET", "/login/phone-or-email/email", "login_email", self._login_email),
            ("POST", "/login/phone-or-email/email", "login_submit", self._login_submit),
            ("GET", "/logout", "logout", self._logout),
            ("GET", UPLOAD, "upload_page", self._upload_page),
            ("POST", "/tiktokstudio/api/upload", "upload_create", self._upload_create),
            ("PUT", r"/tiktokstudio/api/upload/(?P<upload_id>[\w-]+)", "upload", self._upload_put),
            ("GET", r"/tiktokstudio/api/upload/(?P<upload_id>[\w-]+)", "upload_status", self._upload_status),
            ("POST", "/tiktokstudio/api/post", "post", self._post),
            ("GET", CONTENT, "content", self._content),
            ("GET", r"/@(?P<user>[\w.]+)", "profile", self._profile),
            ("GET", r"/@(?P<user>[\w.]+)/video/(?P<item_id>\d+)", "video", self._video),
        ]

    # --- what tests steer and inspect ----------------------------------------------------------------

    def log_in(self) -> str:
        """A live session for the account, as after a login: the `sessionid` cookie's value."""
        return self.sessions.issue(self.username)

    def expire_sessions(self) -> None:
        """Every session ends (TikTok logged the account out): the pages send to the login again."""
        self.sessions.expire_all()

    def approve_qr_login(self, timeout_s: float = 30.0) -> None:
        """Approve the QR code a login page shows, as the phone app does once it scanned it."""
        deadline = time.monotonic() + timeout_s
        while not (waiting := self.qr.waiting()):
            if time.monotonic() > deadline:
                raise TimeoutError("no login page showed a QR code")
            time.sleep(0.05)
        self.qr.approve(waiting[-1], self.sessions.issue(self.username))

    def challenge_next(self, where: str = "upload", times: int = 1) -> None:
        """The next `times` visits of `where` ("upload", "login", "post") meet a captcha instead."""
        self.challenges.add(where, times)

    def post_from_app(self, caption: str, video: Path) -> dict[str, Any]:
        """A post made outside the web page (the phone app, a person by hand, the API): the profile shows
        it like any other."""
        digest = hashlib.sha256(video.read_bytes()).hexdigest()
        post = WebPost(
            item_id=str(FIRST_ITEM_ID + self.next_id()),
            user=self.username,
            caption=caption,
            visibility=VISIBILITY[0],
            aigc=False,
            sha256=digest,
            size=video.stat().st_size,
            created_at=time.time(),
        )
        with self._state:
            self._posts.append(post)
        return self.posts[-1]

    def hold_content_check(self, times: int = 1) -> None:
        """For the next `times` uploads the content check is still running when Post is clicked."""
        with self._state:
            self._content_checks += times

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._state:
            return [
                {
                    "id": post.item_id,
                    "user": post.user,
                    "caption": post.caption,
                    "visibility": post.visibility,
                    "aigc": post.aigc,
                    "sha256": post.sha256,
                    "size": post.size,
                    "url": post.url(self.base_url),
                    "created_at": post.created_at,
                }
                for post in self._posts
            ]

    # --- pages ---------------------------------------------------------------------------------------

    def _header(self, user: str | None) -> str:
        account = (
            f'<a data-e2e="nav-profile" href="/@{text(user)}">Profile</a>'
            f' <a data-e2e="nav-upload" href="{UPLOAD}">Upload</a> <a href="/logout">Log out</a>'
            if user
            else f'<a data-e2e="top-login-button" href="{LOGIN}">Log in</a>'
        )
        return f'<header><a href="/">TikTok</a><nav>{account}</nav></header>'

    def _home(self, request: Request) -> Response:
        user = self.sessions.user(request)
        return self.render("TikTok - Make Your Day", f'<div id="app">{self._header(user)}<main></main></div>')

    def _login_choice(self, request: Request) -> Response:
        if self.challenges.take("login"):
            return self._challenge_page()
        back = text(request.query.get("redirect_url", "/"))
        body = (
            f'<div id="loginContainer">{self._header(None)}<main><h2>Log in to TikTok</h2>'
            f'<a data-e2e="channel-item" href="/login/qrcode?redirect_url={back}">Use QR code</a><br>'
            f'<a data-e2e="channel-item" href="/login/phone-or-email/email?redirect_url={back}">'
            "Use phone / email / username</a></main></div>"
        )
        return self.render("Log in | TikTok", body)

    def _login_qr(self, request: Request) -> Response:
        token = self.qr.new()
        back = safe_return(request.query.get("redirect_url"))
        body = (
            f'<div id="loginContainer">{self._header(None)}<main><h2>Log in with QR code</h2>'
            f'<div data-e2e="qr-code" data-token="{text(token)}" style="width:180px;height:180px;'
            f'border:8px solid #000;font:10px monospace;word-break:break-all">{text(token)}</div>'
            "<p>Scan with your mobile device's camera or the TikTok app</p></main></div>"
        )
        script = f"""
const token = {json.dumps(token)}, back = {json.dumps(back)};
async function poll() {{
  try {{
    const answer = await fetch('/passport/web/check_qrconnect/?token=' + encodeURIComponent(token));
    const body = await answer.json();
    if (body.data && body.data.status === 'confirmed') {{ location.href = back; return; }}
    if (body.data && body.data.status === 'expired') {{ location.reload(); return; }}
  }} catch (error) {{}}
  setTimeout(poll, 200);
}}
poll();
"""
        return self.render("Log in | TikTok", body, script=script)

    def _qr_check(self, request: Request) -> Response:
        token = request.query.get("token", "")
        session = self.qr.take(token)
        if session is None:
            status = "new" if token in self.qr.waiting() else "expired"
            return Response(200, {"data": {"status": status}, "message": "success"})
        return Response(
            200,
            {"data": {"status": "confirmed"}, "message": "success"},
            {"Set-Cookie": session_cookie(SESSION_COOKIE, session)},
        )

    def _login_email(self, request: Request, error: str = "") -> Response:
        back = text(request.query.get("redirect_url", "/"))
        problem = f'<div role="alert" class="login-error">{text(error)}</div>' if error else ""
        body = (
            f'<div id="loginContainer">{self._header(None)}<main><h2>Log in</h2>'
            f'<form method="post" action="/login/phone-or-email/email?redirect_url={back}">'
            '<input name="username" placeholder="Email or username" autocomplete="username"><br>'
            '<input type="password" name="password" placeholder="Password"><br>'
            f'{problem}<button type="submit" data-e2e="login-button">Log in</button></form></main></div>'
        )
        return self.render("Log in | TikTok", body, status=200)

    def _login_submit(self, request: Request) -> Response:
        form = request.form()
        if form.get("username") != self.username or form.get("password") != self.password:
            return self._login_email(request, "Incorrect account or password")
        if self.challenges.take("login"):
            return self._challenge_page()
        session = self.sessions.issue(self.username)
        back = safe_return(request.query.get("redirect_url"))
        return redirect(back, set_cookie=session_cookie(SESSION_COOKIE, session))

    def _logout(self, request: Request) -> Response:
        self.sessions.end(request)
        return redirect("/", set_cookie=cleared_cookie(SESSION_COOKIE))

    def _challenge_page(self) -> Response:
        """TikTok's captcha overlay (the wrappers captcha solvers look for)."""
        return self.render("TikTok", CAPTCHA_OVERLAY)

    def _upload_page(self, request: Request) -> Response:
        user = self.sessions.user(request)
        if user is None:
            return redirect(login_location(LOGIN, request))
        if self.challenges.take("upload"):
            return self._challenge_page()
        body = f'<div id="root">{self._header(user)}<main>{UPLOAD_FORM}</main>{CAPTCHA_HIDDEN}</div>'
        return self.render("TikTok Studio", body, script=UPLOAD_SCRIPT, style=UPLOAD_STYLE)

    def _content(self, request: Request) -> Response:
        user = self.sessions.user(request)
        if user is None:
            return redirect(login_location(LOGIN, request))
        rows = "".join(
            f'<div data-tt="components_PostInfoCell_Container"><a href="{text(post.url(self.base_url))}">'
            f"{text(post.caption)}</a> <span>{'Processing' if not self._processed(post) else 'Posted'}"
            "</span></div>"
            for post in self._newest_first(user)
        )
        body = (
            f'<div id="root">{self._header(user)}<main><h1>Posts</h1>'
            f'<div data-tt="components_PostTable_Container">{rows}</div></main></div>'
        )
        return self.render("TikTok Studio", body)

    def _profile(self, request: Request) -> Response:
        user = request.params["user"]
        if user != self.username:
            return self.render(
                "Couldn't find this account", "<main>Couldn't find this account</main>", status=404
            )
        tiles = "".join(
            f'<div data-e2e="user-post-item"><a href="{text(post.url(self.base_url))}">'
            f'<img alt="{text(post.caption)} created by {text(self.nickname)} with '
            f'{text(self.nickname)}\'s original sound" width="90" height="160"></a></div>'
            for post in self._newest_first(user)
            if self._processed(post)
        )
        body = (
            f'<div id="main-content-others_homepage">{self._header(self.sessions.user(request))}<main>'
            f'<h1 data-e2e="user-title">{text(user)}</h1>'
            f'<h2 data-e2e="user-subtitle">{text(self.nickname)}</h2>'
            f'<div data-e2e="user-post-item-list">{tiles}</div></main></div>'
        )
        return self.render(f"{self.nickname} (@{user}) | TikTok", body)

    def _video(self, request: Request) -> Response:
        with self._state:
            post = next((p for p in self._posts if p.item_id == request.params["item_id"]), None)
        if post is None or post.user != request.params["user"] or not self._processed(post):
            return self.render(
                "Video currently unavailable", "<main>Video currently unavailable</main>", status=404
            )
        body = f'<main><div data-e2e="browse-video-desc">{text(post.caption)}</div></main>'
        return self.render(f"{post.caption[:40]} | TikTok", body)

    def _newest_first(self, user: str) -> list[WebPost]:
        with self._state:
            return [post for post in reversed(self._posts) if post.user == user]

    def _processed(self, post: WebPost) -> bool:
        return time.time() >= post.created_at + self.processing_s

    # --- the page's own API (what its script calls) ----------------------------------------------------

    def _upload_create(self, request: Request) -> Response:
        user = self.sessions.user(request)
        if user is None:
            return Response(401, {"status_code": 8, "status_msg": "login required"})
        upload_id = f"v{self.next_id():04d}"
        with self._state:
            running = self._content_checks > 0
            self._content_checks -= 1 if running else 0
            self._uploads[upload_id] = Upload(
                upload_id, user, self.data_dir / f"{upload_id}.video", content_check_running=running
            )
        return Response(200, {"status_code": 0, "upload_id": upload_id})

    def _owned_upload(self, request: Request) -> Upload | None:
        user = self.sessions.user(request)
        with self._state:
            upload = self._uploads.get(request.params.get("upload_id", ""))
        return upload if upload is not None and user == upload.user else None

    def _upload_put(self, request: Request) -> Response:
        upload = self._owned_upload(request)
        if upload is None:
            request.drain()
            return Response(404, {"status_code": 4, "status_msg": "no such upload"})
        digest = hashlib.sha256()
        with upload.path.open("wb") as target:
            upload.size = request.copy_body_to(target, digest)
        upload.sha256 = digest.hexdigest()
        facts = probe_video(upload.path)
        if facts is None:
            upload.failure = "Couldn't upload. This file type isn't supported."
        else:
            upload.resolution = f"{min(facts.width, facts.height)}p"
        upload.received = True
        return Response(200, {"status_code": 0, "size": upload.size})

    def _upload_status(self, request: Request) -> Response:
        upload = self._owned_upload(request)
        if upload is None:
            return Response(404, {"status_code": 4, "status_msg": "no such upload"})
        if not upload.received:
            return Response(200, {"status": "uploading"})
        if upload.failure:
            return Response(200, {"status": "failed", "reason": upload.failure})
        return Response(
            200,
            {
                "status": "ready",
                "resolution": upload.resolution,
                "content_check": "running" if upload.content_check_running else "done",
            },
        )

    def _post(self, request: Request) -> Response:
        user = self.sessions.user(request)
        body = request.json()
        if user is None:
            return Response(401, {"status_code": 8, "status_msg": "login required"})
        if self.challenges.take("post"):
            return Response(403, {"status_code": 10, "captcha": True})
        with self._state:
            upload = self._uploads.get(str(body.get("upload_id", "")))
        if upload is None or upload.user != user or not upload.received or upload.failure:
            return Response(400, {"status_code": 5, "status_msg": "Something went wrong. Please try again."})
        visibility = str(body.get("visibility", ""))
        if visibility not in VISIBILITY:
            return Response(400, {"status_code": 5, "status_msg": f"unknown visibility {visibility!r}"})
        post = WebPost(
            item_id=str(FIRST_ITEM_ID + self.next_id()),
            user=user,
            caption=str(body.get("caption", "")),
            visibility=visibility,
            aigc=bool(body.get("aigc")),
            sha256=upload.sha256,
            size=upload.size,
            created_at=time.time(),
        )
        with self._state:
            self._posts.append(post)
            del self._uploads[upload.upload_id]
        return Response(200, {"status_code": 0, "item_id": post.item_id})


CAPTCHA_BOX = (
    '<div class="captcha-verify-container" role="dialog" aria-label="Verify">'
    "<div>Drag the slider to fit the puzzle</div>"
    '<img id="captcha-verify-image" width="340" height="212" alt="">'
    '<div class="captcha_verify_slide--slidebar"><div class="secsdk-captcha-drag-icon"></div></div></div>'
)
CAPTCHA_OVERLAY = f'<div class="captcha-disable-scroll">{CAPTCHA_BOX}</div>'
CAPTCHA_HIDDEN = f'<div id="post-captcha" hidden>{CAPTCHA_OVERLAY}</div>'

UPLOAD_FORM = f"""
<div class="upload-container" data-tt="Upload_index">
  <h1>Upload video</h1>
  <div id="upload-card" class="upload-card">
    <input type="file" accept="video/*" id="file-input" style="display:none">
    <button type="button" aria-label="Select file" id="select-file"
      class="TUXButton TUXButton--primary"><div class="TUXButton-content">Select video</div></button>
  </div>
  <div id="upload-info" class="info-container" hidden>
    <span id="upload-name" class="info-main"></span>
    <div id="upload-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"
      data-e2e="upload_progress"><div id="progress-bar" class="progress-bar"></div></div>
    <span id="progress-text">0%</span>
    <div id="uploaded" hidden>Uploaded <span id="resolution" class="resolution-label-text"></span></div>
    <div id="upload-error" class="upload-error" role="alert" hidden></div>
  </div>
  <div id="form" class="form-container" hidden>
    <div data-e2e="caption_container" class="caption-wrap">
      <label>Description</label>
      <div class="DraftEditor-root"><div id="caption" class="notranslate public-DraftEditor-content"
        contenteditable="true" role="combobox" aria-expanded="false" spellcheck="false"></div></div>
      <span id="caption-count">0/4000</span>
    </div>
    <div data-e2e="video_visibility_container" class="visibility">
      <label>Who can watch this video</label>
      <button type="button" role="combobox" aria-expanded="false" id="visibility">{VISIBILITY[0]}</button>
      <div role="listbox" id="visibility-options" hidden>
        {"".join(f'<div role="option" data-value="{v}">{v}</div>' for v in VISIBILITY)}
      </div>
    </div>
    <button type="button" id="more" class="more-btn">Show more</button>
    <div id="advanced" hidden>
      <div data-e2e="aigc_container"><label>AI-generated content</label>
        <div role="switch" id="aigc" aria-checked="false" tabindex="0" class="Switch__content"></div></div>
    </div>
    <div class="button-group">
      <button type="button" data-e2e="post_video_button" id="post" data-disabled="true"
        class="TUXButton TUXButton--primary"><div class="TUXButton-content"><div>Post</div></div></button>
      <button type="button" data-e2e="discard_video_button" class="TUXButton">Discard</button>
    </div>
  </div>
  <div id="confirm-modal" class="common-modal" role="dialog" hidden>
    <div>Continue to post?</div><div>Your video is still being checked for content that may be
      restricted.</div>
    <button type="button" id="cancel-post" class="TUXButton">
      <div class="TUXButton-content">Cancel</div></button>
    <button type="button" id="post-now" class="TUXButton TUXButton--primary">
      <div class="TUXButton-content"><div>Post now</div></div></button>
  </div>
  <div id="toast" class="TUXTopToast" role="status" hidden></div>
</div>
"""

UPLOAD_STYLE = """
.progress-bar { height: 4px; background: #fe2c55; width: 0; }
#upload-progress { width: 320px; background: #eee; }
.public-DraftEditor-content { min-height: 60px; border: 1px solid #ccc; padding: 8px; white-space: pre-wrap; }
[role=option] { padding: 4px 8px; cursor: pointer; }
[role=switch] { width: 36px; height: 20px; border-radius: 10px; background: #ccc; display: inline-block; }
[role=switch][aria-checked=true] { background: #20d5ec; }
button[data-disabled=true] { opacity: .5; }
.captcha-disable-scroll { position: fixed; inset: 0; background: rgba(0,0,0,.5); }
.captcha-verify-container { background: #fff; width: 380px; margin: 120px auto; padding: 16px; }
"""

# The page's own logic; it keys on ids, not on the data-e2e names automation uses, so a redesign that
# renames those leaves the page working for a person.
UPLOAD_SCRIPT = """
const $ = (id) => document.getElementById(id);
let uploadId = null, ready = false, contentCheck = false, caption = '', visibility = 'Everyone', aigc = false;
function setProgress(percent) {
  $('upload-progress').setAttribute('aria-valuenow', String(percent));
  $('progress-bar').style.width = percent + '%';
  $('progress-text').textContent = percent + '%';
}
function fail(message) { $('upload-error').textContent = message; $('upload-error').hidden = false; }
function toast(message, kind) {
  $('toast').textContent = message; $('toast').dataset.type = kind; $('toast').hidden = false;
  $('toast').setAttribute('role', kind === 'error' ? 'alert' : 'status');
}
function enablePost() { $('post').dataset.disabled = ready ? 'false' : 'true'; }
function countCaption() { $('caption-count').textContent = caption.length + '/4000'; }
$('select-file').addEventListener('click', () => $('file-input').click());
// Like Draft.js, the caption is the editor's blocks, one line each (not the DOM's innerText).
function editorText(editor) {
  const lines = [''];
  for (const node of editor.childNodes) {
    if (node.nodeName === 'DIV' || node.nodeName === 'P') lines.push(node.textContent);
    else if (node.nodeName === 'BR') lines.push('');
    else lines[lines.length - 1] += node.textContent;
  }
  const first = editor.firstChild;
  const block = first && (first.nodeName === 'DIV' || first.nodeName === 'P');
  if (lines.length > 1 && lines[0] === '' && block) lines.shift();
  return lines.join('\\n');
}
$('caption').addEventListener('input', () => { caption = editorText($('caption')); countCaption(); });
$('file-input').addEventListener('change', async () => {
  const file = $('file-input').files[0];
  if (!file) return;
  $('upload-card').hidden = true; $('upload-info').hidden = false; $('form').hidden = false;
  $('upload-name').textContent = file.name;
  $('caption').textContent = file.name.replace(/\\.[^.]+$/, '');
  caption = $('caption').textContent; countCaption();
  const created = await fetch('/tiktokstudio/api/upload', {method: 'POST'});
  if (!created.ok) { fail("Couldn't upload. Please try again."); return; }
  uploadId = (await created.json()).upload_id;
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', '/tiktokstudio/api/upload/' + uploadId);
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) setProgress(Math.min(99, Math.floor(event.loaded * 100 / event.total)));
  };
  xhr.onload = () => {
    if (xhr.status === 200) { setProgress(100); poll(); } else fail("Couldn't upload. Please try again.");
  };
  xhr.onerror = () => fail("Couldn't upload. Network error.");
  xhr.send(file);
});
async function poll() {
  try {
    const answer = await (await fetch('/tiktokstudio/api/upload/' + uploadId)).json();
    if (answer.status === 'ready') {
      $('resolution').textContent = answer.resolution; $('uploaded').hidden = false;
      contentCheck = answer.content_check === 'running'; ready = true; enablePost(); return;
    }
    if (answer.status === 'failed') { fail(answer.reason); return; }
  } catch (error) {}
  setTimeout(poll, 150);
}
$('visibility').addEventListener('click', () => {
  const list = $('visibility-options'); list.hidden = !list.hidden;
  $('visibility').setAttribute('aria-expanded', String(!list.hidden));
});
for (const option of document.querySelectorAll('#visibility-options [role=option]')) {
  option.addEventListener('click', () => {
    visibility = option.dataset.value; $('visibility').textContent = visibility;
    $('visibility-options').hidden = true; $('visibility').setAttribute('aria-expanded', 'false');
  });
}
$('more').addEventListener('click', () => { $('advanced').hidden = false; $('more').hidden = true; });
$('aigc').addEventListener('click', () => {
  aigc = !aigc; $('aigc').setAttribute('aria-checked', String(aigc));
});
$('post').addEventListener('click', () => {
  if ($('post').dataset.disabled !== 'false') return;
  if (contentCheck) { $('confirm-modal').hidden = false; return; }
  submit();
});
$('post-now').addEventListener('click', () => { $('confirm-modal').hidden = true; submit(); });
$('cancel-post').addEventListener('click', () => { $('confirm-modal').hidden = true; });
async function submit() {
  $('post').dataset.disabled = 'true';
  try {
    const answer = await fetch('/tiktokstudio/api/post', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({upload_id: uploadId, caption, visibility, aigc}),
    });
    const body = await answer.json();
    if (answer.ok) {
      toast('__CONFIRMATION__', 'success');
      setTimeout(() => { location.href = '__CONTENT__'; }, 400);
      return;
    }
    if (body.captcha) { $('post-captcha').hidden = false; return; }
    toast(body.status_msg || 'Something went wrong. Please try again.', 'error');
  } catch (error) {
    toast('Network error. Please try again.', 'error');
  }
  enablePost();
}
""".replace("__CONFIRMATION__", CONFIRMATION).replace("__CONTENT__", CONTENT)
