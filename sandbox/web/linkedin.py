"""A SANDBOX of LinkedIn's web pages for browser automation: never used by production code paths.

It follows the structure and behaviour of the real www.linkedin.com pages as open-source automation
drives them (the class names and ids below are the ones those tools use; flows/linkedin.yaml cites them):

- `/login` is the sign-in form (`#username`, `#password`); it sets the `li_at` cookie. A page that needs
  a session sends a visitor without one to `/login?session_redirect=...`.
- `/feed/` has the share box: "Start a post" (`button.share-box-feed-entry__trigger`) opens the share
  modal with its Quill editor (`.ql-editor`, which only notices real input events), the visibility button
  ("Post settings": Anyone / Connections only, then Done), "Add media" and the Post button
  (`button.share-actions__primary-action`). "Add media" opens the media editor, whose hidden
  `#media-editor-file-selector__file-input` takes the video; it uploads at once (an upload URL from the
  page's API, a PUT with progress), "Next" returns to the share modal, where the preview shows the
  upload's progress and then LinkedIn's processing (ffprobe on the received file here; a file that is no
  video fails). Post stays disabled until the video is ready; a post confirms with a toast ("Post
  successful. View post") linking to `/feed/update/urn:li:activity:<id>/`.
- `/in/<user>/recent-activity/all/` lists the member's posts, newest first: `.feed-shared-update-v2`
  items carrying `data-urn="urn:li:activity:<id>"`, the text in `.update-components-text`, the time a
  link to the post; a video post shows there once processed.
- A challenge (LinkedIn's security check, `iframe#captcha-internal` on `/checkpoint/challenge/...`)
  replaces a page on demand, or answers the Post click.

Tests steer it as the TikTok web sandbox: expire sessions, ask for a challenge, rename a class or id (a
redesign), drop the share request after committing it, post from elsewhere, and read the posts with the
sha256 of each stored video.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from sandbox.common import Request, Response, Route
from sandbox.tiktok import probe_video
from sandbox.web.pages import (
    Challenges,
    Sessions,
    WebSandbox,
    cleared_cookie,
    redirect,
    safe_return,
    session_cookie,
    text,
)

WWW_HOST = "www.linkedin.com"
SESSION_COOKIE = "li_at"
LOGIN = "/login"
LOGIN_SUBMIT = "/checkpoint/lg/login-submit"
FEED = "/feed/"
CHALLENGE = "/checkpoint/challenge/"
UPLOAD_METADATA = "/voyager/api/voyagerVideoDashMediaUploadMetadata"
SHARES = "/voyager/api/contentcreation/normShares"
VISIBILITY = {"ANYONE": "Anyone", "CONNECTIONS_ONLY": "Connections only"}
CONFIRMATION = "Post successful."
MAX_COMMENTARY = 3000
FIRST_ACTIVITY_ID = 7_300_000_000_000_000_000


@dataclass
class Upload:
    asset: str
    user: str
    path: Path
    size: int = 0
    sha256: str = ""
    status: str = "WAITING_UPLOAD"  # WAITING_UPLOAD, AVAILABLE, PROCESSING_FAILED


@dataclass
class WebPost:
    activity_id: str
    user: str
    commentary: str
    visibility: str
    sha256: str
    size: int
    created_at: float

    @property
    def urn(self) -> str:
        return f"urn:li:activity:{self.activity_id}"

    def url(self, base_url: str) -> str:
        return f"{base_url}/feed/update/{self.urn}/"


class LinkedInWebSandbox(WebSandbox):
    """www.linkedin.com's sign-in, feed share box and recent-activity pages for one member.

    `processing_s`: how long a video post takes to show on the profile after it was made.
    """

    name = "linkedin-web"
    roots: ClassVar[Mapping[str, str]] = {"api": WWW_HOST}

    def __init__(
        self,
        data_dir: Path,
        *,
        username: str = "pellacia-press",
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
        self.challenges = Challenges()
        self._uploads: dict[str, Upload] = {}
        self._posts: list[WebPost] = []
        self._state = threading.Lock()

    def routes(self) -> Sequence[Route]:
        return [
            ("GET", "/", "home", self._home),
            ("GET", LOGIN, "login", self._login),
            ("POST", LOGIN_SUBMIT, "login_submit", self._login_submit),
            ("GET", "/m/logout/", "logout", self._logout),
            ("GET", rf"{CHALLENGE}(?P<token>[\w-]+)/", "challenge", self._challenge),
            ("GET", FEED, "upload_page", self._feed),
            ("POST", UPLOAD_METADATA, "upload_create", self._upload_create),
            ("PUT", r"/dms-uploads/(?P<asset>[\w-]+)", "upload", self._upload_put),
            (
                "GET",
                r"/voyager/api/voyagerVideoDashMediaStatus/(?P<asset>[\w-]+)",
                "upload_status",
                self._status,
            ),
            ("POST", SHARES, "post", self._share),
            ("GET", r"/in/(?P<user>[\w-]+)/recent-activity/all/", "profile", self._activity),
            ("GET", r"/feed/update/urn:li:activity:(?P<activity_id>\d+)/", "update", self._update),
        ]

    # --- what tests steer and inspect ----------------------------------------------------------------

    def log_in(self) -> str:
        """A live session for the member, as after a sign-in: the `li_at` cookie's value."""
        return self.sessions.issue(self.username)

    def expire_sessions(self) -> None:
        """Every session ends (LinkedIn signed the member out): the pages send to the sign-in again."""
        self.sessions.expire_all()

    def challenge_next(self, where: str = "upload", times: int = 1) -> None:
        """The next `times` visits of `where` ("upload": the feed, "login", "post") meet LinkedIn's
        security check instead."""
        self.challenges.add(where, times)

    def post_from_app(self, caption: str, video: Path) -> dict[str, Any]:
        """A post made outside the web page (the phone app, the API): the activity page shows it too."""
        post = WebPost(
            activity_id=str(FIRST_ACTIVITY_ID + self.next_id()),
            user=self.username,
            commentary=caption,
            visibility="ANYONE",
            sha256=hashlib.sha256(video.read_bytes()).hexdigest(),
            size=video.stat().st_size,
            created_at=time.time(),
        )
        with self._state:
            self._posts.append(post)
        return self.posts[-1]

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._state:
            return [
                {
                    "id": post.urn,
                    "user": post.user,
                    "caption": post.commentary,
                    "visibility": post.visibility,
                    "sha256": post.sha256,
                    "size": post.size,
                    "url": post.url(self.base_url),
                    "created_at": post.created_at,
                }
                for post in self._posts
            ]

    def render(
        self, title: str, body: str, *, script: str = "", style: str = "", status: int = 200
    ) -> Response:
        """As WebSandbox's; LinkedIn's automation hooks are class names and ids, so a redesign renames
        those (whole names only)."""
        for old, new in self.renamed.items():
            body = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, body)
        return super().render(title, body, script=script, style=style, status=status)

    # --- pages ---------------------------------------------------------------------------------------

    def _login_redirect(self, request: Request) -> Response:
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in request.query.items())
        back = request.path + (f"?{query}" if query else "")
        return redirect(f"{LOGIN}?session_redirect={quote(back, safe='')}")

    def _nav(self, user: str | None) -> str:
        if user is None:
            return (
                f'<header class="global-nav"><a href="/">LinkedIn</a> <a href="{LOGIN}">Sign in</a></header>'
            )
        return (
            '<header class="global-nav"><nav aria-label="Primary Navigation">'
            f'<a href="{FEED}">Home</a> <a class="global-nav__me" href="/in/{text(user)}/">Me</a> '
            '<a href="/m/logout/">Sign Out</a></nav></header>'
        )

    def _home(self, request: Request) -> Response:
        if self.sessions.user(request) is not None:
            return redirect(FEED)
        return self.render("LinkedIn: Log In or Sign Up", f"{self._nav(None)}<main><h1>Welcome</h1></main>")

    def _login(self, request: Request, error: str = "") -> Response:
        if self.challenges.take("login"):
            return self._challenge_redirect()
        back = text(request.query.get("session_redirect", FEED))
        problem = f'<div role="alert" id="error-for-password">{text(error)}</div>' if error else ""
        body = (
            f'{self._nav(None)}<main class="app__content"><h1>Sign in</h1>'
            f'<form class="login__form" method="post" action="{LOGIN_SUBMIT}?session_redirect={back}">'
            '<input id="username" name="session_key" autocomplete="username" aria-label="Email or phone"><br>'
            '<input id="password" type="password" name="session_password" autocomplete="current-password" '
            f'aria-label="Password"><br>{problem}'
            '<button type="submit" class="btn__primary--large" aria-label="Sign in">Sign in</button>'
            "</form></main>"
        )
        return self.render("LinkedIn Login, Sign in | LinkedIn", body)

    def _login_submit(self, request: Request) -> Response:
        form = request.form()
        if form.get("session_key") != self.username or form.get("session_password") != self.password:
            return self._login(request, "Wrong email or password. Try again or create an account.")
        if self.challenges.take("login"):
            return self._challenge_redirect()
        session = self.sessions.issue(self.username)
        back = safe_return(request.query.get("session_redirect"), FEED)
        return redirect(back, set_cookie=session_cookie(SESSION_COOKIE, session))

    def _logout(self, request: Request) -> Response:
        self.sessions.end(request)
        return redirect("/", set_cookie=cleared_cookie(SESSION_COOKIE))

    def _challenge_redirect(self) -> Response:
        return redirect(f"{CHALLENGE}{secrets.token_urlsafe(12)}/")

    def _challenge(self, _request: Request) -> Response:
        body = (
            '<main class="app__content"><h1>Let\'s do a quick security check</h1>'
            f'<form id="captcha-challenge" method="post">{CAPTCHA_FRAME}</form></main>'
        )
        return self.render("Security Verification | LinkedIn", body)

    def _feed(self, request: Request) -> Response:
        user = self.sessions.user(request)
        if user is None:
            return self._login_redirect(request)
        if self.challenges.take("upload"):
            return self._challenge_redirect()
        options = "".join(
            '<li class="share-visibility-item">'
            f'<input type="radio" name="visibility" id="visibility-{value}" '
            f'value="{value}"{" checked" if value == "ANYONE" else ""}>'
            f'<label for="visibility-{value}">{label}</label></li>'
            for value, label in VISIBILITY.items()
        )
        body = (
            f'<div class="application-outlet">{self._nav(user)}<main class="scaffold-layout__main">'
            f"{SHARE_BOX}</main>"
            f'<div id="artdeco-modal-outlet">{SHARE_MODAL.replace("__OPTIONS__", options)}{MEDIA_EDITOR}'
            f"{CAPTCHA_HIDDEN}</div>"
            '<div class="artdeco-toasts"><div class="artdeco-toast-item" id="toast" role="alert" hidden>'
            '<p id="toast-text"></p><a id="toast-link" class="artdeco-toast-item__cta" href="#">View post</a>'
            "</div></div></div>"
        )
        name = text(self.nickname)
        return self.render(
            "Feed | LinkedIn", body.replace("__NAME__", name), script=SHARE_SCRIPT, style=SHARE_STYLE
        )

    def _activity(self, request: Request) -> Response:
        user = request.params["user"]
        if user != self.username:
            return self.render(
                "Page not found | LinkedIn", "<main>This page doesn’t exist</main>", status=404
            )
        items = "".join(self._item(post) for post in self._newest_first(user) if self._processed(post))
        body = (
            f'<div class="application-outlet">{self._nav(self.sessions.user(request))}'
            f'<main class="scaffold-layout__main"><h2>All activity</h2>'
            f'<div class="scaffold-finite-scroll__content">{items}</div></main></div>'
        )
        return self.render(f"Activity | {self.nickname} | LinkedIn", body, style=UPDATE_STYLE)

    def _item(self, post: WebPost) -> str:
        link = f"/feed/update/{post.urn}/"
        return (
            f'<div class="feed-shared-update-v2" data-urn="{post.urn}" role="article">'
            '<div class="update-components-actor">'
            '<span class="update-components-actor__name">'
            f'<span aria-hidden="true">{text(self.nickname)}</span>'
            '</span><span class="update-components-actor__sub-description">'
            f'<a class="update-components-actor__sub-description-link" href="{link}">now</a></span></div>'
            '<div class="feed-shared-update-v2__description update-components-text">'
            f'<span class="break-words" dir="ltr">{text(post.commentary)}</span></div>'
            '<div class="update-components-linkedin-video"><video width="320" height="180" preload="none">'
            "</video></div></div>"
        )

    def _update(self, request: Request) -> Response:
        with self._state:
            post = next((p for p in self._posts if p.activity_id == request.params["activity_id"]), None)
        if post is None or not self._processed(post):
            return self.render(
                "Page not found | LinkedIn", "<main>This post cannot be displayed</main>", status=404
            )
        return self.render(
            f"{self.nickname} on LinkedIn", f"<main>{self._item(post)}</main>", style=UPDATE_STYLE
        )

    def _newest_first(self, user: str) -> list[WebPost]:
        with self._state:
            return [post for post in reversed(self._posts) if post.user == user]

    def _processed(self, post: WebPost) -> bool:
        return time.time() >= post.created_at + self.processing_s

    # --- the page's own API (what its script calls) ----------------------------------------------------

    def _upload_create(self, request: Request) -> Response:
        user = self.sessions.user(request)
        body = request.json() or {}
        if user is None:
            return Response(401, {"status": 401, "message": "Unauthorized"})
        if body.get("mediaUploadType") != "VIDEO_SHARING" or not str(body.get("fileSize", "")).isdigit():
            return Response(400, {"status": 400, "message": "mediaUploadType and fileSize are required"})
        asset = f"C4D05AQ{secrets.token_hex(8)}"
        with self._state:
            self._uploads[asset] = Upload(asset, user, self.data_dir / f"{asset}.video")
        return Response(
            200,
            {
                "value": {
                    "urn": f"urn:li:digitalmediaAsset:{asset}",
                    "singleUploadUrl": f"/dms-uploads/{asset}",
                    "type": "SINGLE",
                }
            },
        )

    def _owned_upload(self, request: Request) -> Upload | None:
        user = self.sessions.user(request)
        with self._state:
            upload = self._uploads.get(request.params.get("asset", ""))
        return upload if upload is not None and upload.user == user else None

    def _upload_put(self, request: Request) -> Response:
        upload = self._owned_upload(request)
        if upload is None:
            request.drain()
            return Response(404, {"status": 404, "message": "no such upload"})
        digest = hashlib.sha256()
        with upload.path.open("wb") as target:
            upload.size = request.copy_body_to(target, digest)
        upload.sha256 = digest.hexdigest()
        upload.status = "AVAILABLE" if probe_video(upload.path) is not None else "PROCESSING_FAILED"
        return Response(201, None)

    def _status(self, request: Request) -> Response:
        upload = self._owned_upload(request)
        if upload is None:
            return Response(404, {"status": 404, "message": "no such upload"})
        return Response(200, {"status": upload.status})

    def _share(self, request: Request) -> Response:
        user = self.sessions.user(request)
        body = request.json() or {}
        if user is None:
            return Response(401, {"status": 401, "message": "Unauthorized"})
        if self.challenges.take("post"):
            return Response(403, {"status": 403, "challenge": True})
        commentary = str(body.get("commentary", ""))
        visibility = str(body.get("visibility", ""))
        asset = str(body.get("media", "")).removeprefix("urn:li:digitalmediaAsset:")
        with self._state:
            upload = self._uploads.get(asset)
        if len(commentary) > MAX_COMMENTARY:
            return Response(422, {"status": 422, "message": "Your post is over the 3,000 character limit."})
        if visibility not in VISIBILITY:
            return Response(422, {"status": 422, "message": f"unknown visibility {visibility!r}"})
        if upload is None or upload.user != user or upload.status != "AVAILABLE":
            return Response(422, {"status": 422, "message": "Something went wrong. Please try again."})
        post = WebPost(
            activity_id=str(FIRST_ACTIVITY_ID + self.next_id()),
            user=user,
            commentary=commentary,
            visibility=visibility,
            sha256=upload.sha256,
            size=upload.size,
            created_at=time.time(),
        )
        with self._state:
            self._posts.append(post)
            del self._uploads[asset]
        return Response(201, {"value": {"urn": f"urn:li:share:{post.activity_id}", "activityUrn": post.urn}})


CAPTCHA_FRAME = (
    '<iframe id="captcha-internal" title="Security verification" width="400" height="320" '
    'srcdoc="<p>Verify you\'re a human</p>"></iframe>'
)
CAPTCHA_HIDDEN = f'<div id="post-challenge" role="dialog" hidden>{CAPTCHA_FRAME}</div>'

SHARE_BOX = """
<div class="share-box-feed-entry__closed-share-box">
  <div class="share-box-feed-entry__top-bar">
    <button type="button" class="artdeco-button share-box-feed-entry__trigger" id="start-post">
      <span>Start a post</span></button>
  </div>
</div>
"""

SHARE_MODAL = """
<div class="artdeco-modal share-box-v2__modal" role="dialog" aria-labelledby="share-to-linkedin-modal__header"
  id="share-modal" hidden>
  <h2 id="share-to-linkedin-modal__header" class="share-box__title">__NAME__</h2>
  <button type="button" class="share-unified-settings-entry-button" id="visibility-open">
    Post to <span id="visibility-label">Anyone</span></button>
  <div class="share-creation-state__text-editor">
    <div class="ql-editor ql-blank" id="editor" contenteditable="true" role="textbox" aria-multiline="true"
      aria-label="Text editor for creating content"
      data-placeholder="What do you want to talk about?"><p><br></p></div>
  </div>
  <div class="share-creation-state__media-preview" id="preview" hidden>
    <span id="preview-name"></span>
    <div role="progressbar" id="progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0">
      <div id="progress-fill"></div></div>
    <span id="preview-status" role="status"></span>
    <video id="preview-video" width="320" height="180" hidden></video>
    <div role="alert" id="preview-error" hidden></div>
  </div>
  <div class="share-promoted-detour-button-group">
    <button type="button" class="share-promoted-detour-button" aria-label="Add media"
      id="add-media">Media</button>
  </div>
  <div class="share-box_actions">
    <button type="button" class="share-actions__primary-action artdeco-button artdeco-button--primary"
      id="post" disabled>Post</button>
  </div>
  <div class="share-settings" role="dialog" aria-label="Post settings" id="settings" hidden>
    <h3>Who can see your post?</h3><ul class="share-visibility-items">__OPTIONS__</ul>
    <button type="button" class="share-box-footer__primary-btn artdeco-button"
      id="settings-done">Done</button>
  </div>
</div>
"""

MEDIA_EDITOR = """
<div class="artdeco-modal media-editor" role="dialog" aria-label="Editor" id="media-editor" hidden>
  <h2>Editor</h2>
  <label for="media-editor-file-selector__file-input" class="artdeco-button">Upload from computer</label>
  <input type="file" id="media-editor-file-selector__file-input"
    class="media-editor-file-selector__upload-media-input" accept="image/*,video/*" style="display:none">
  <div id="media-editor-preview"></div>
  <button type="button" class="share-box-footer__primary-btn artdeco-button" aria-label="Next" id="next"
    disabled>Next</button>
</div>
"""

SHARE_STYLE = """
.ql-editor { min-height: 80px; border: 1px solid #ccc; padding: 8px; white-space: pre-wrap; }
#progress { height: 4px; width: 320px; background: #eee; }
#progress-fill { height: 4px; width: 0; background: #0a66c2; }
button[disabled] { opacity: .5; }
#captcha-internal { border: 1px solid #999; background: #fff; }
"""

UPDATE_STYLE = ".update-components-text { white-space: pre-wrap; }"

# The page's own logic; it keys on ids, not on the class names automation uses, so a redesign that
# renames those leaves the page working for a person.
SHARE_SCRIPT = (
    """
const $ = (id) => document.getElementById(id);
let asset = null, ready = false, commentary = '', visibility = 'ANYONE';
// Like Quill, the text is the editor's paragraphs, one line each.
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
function enablePost() { $('post').disabled = !ready; }
function progress(percent) {
  $('progress').setAttribute('aria-valuenow', String(percent));
  $('progress-fill').style.width = percent + '%';
}
function fail(message) {
  $('progress').hidden = true; $('preview-status').textContent = '';
  $('preview-error').textContent = message; $('preview-error').hidden = false;
}
function toast(message, kind, href) {
  $('toast-text').textContent = message; $('toast').dataset.testArtdecoToastItemType = kind;
  $('toast-link').hidden = !href; if (href) $('toast-link').href = href; $('toast').hidden = false;
}
$('start-post').addEventListener('click', () => { $('share-modal').hidden = false; });
$('editor').addEventListener('input', () => {
  commentary = editorText($('editor')); $('editor').classList.toggle('ql-blank', commentary === '');
});
$('visibility-open').addEventListener('click', () => { $('settings').hidden = false; });
$('settings-done').addEventListener('click', () => {
  visibility = document.querySelector('input[name=visibility]:checked').value;
  const label = document.querySelector('label[for=visibility-' + visibility + ']');
  $('visibility-label').textContent = label.textContent;
  $('settings').hidden = true;
});
$('add-media').addEventListener('click', () => {
  $('share-modal').hidden = true; $('media-editor').hidden = false;
});
$('next').addEventListener('click', () => {
  $('media-editor').hidden = true; $('share-modal').hidden = false; $('preview').hidden = false;
});
$('media-editor-file-selector__file-input').addEventListener('change', async () => {
  const file = $('media-editor-file-selector__file-input').files[0];
  if (!file) return;
  $('media-editor-preview').textContent = file.name; $('preview-name').textContent = file.name;
  $('next').disabled = false; progress(0); $('preview-status').textContent = 'Uploading video';
  const created = await fetch('__METADATA__?action=upload', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({mediaUploadType: 'VIDEO_SHARING', fileSize: file.size, filename: file.name}),
  });
  if (!created.ok) { fail('Something went wrong. Please try again.'); return; }
  const value = (await created.json()).value;
  asset = value.urn;
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', value.singleUploadUrl);
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) progress(Math.min(99, Math.floor(event.loaded * 100 / event.total)));
  };
  xhr.onload = () => {
    if (xhr.status === 201) { progress(100); $('preview-status').textContent = 'Processing video'; poll(); }
    else fail('Something went wrong. Please try again.');
  };
  xhr.onerror = () => fail('Upload failed. Please try again.');
  xhr.send(file);
});
async function poll() {
  try {
    const id = asset.split(':').pop();
    const status = (await (await fetch('/voyager/api/voyagerVideoDashMediaStatus/' + id)).json()).status;
    if (status === 'AVAILABLE') {
      $('progress').hidden = true; $('preview-status').textContent = '';
      $('preview-video').hidden = false; ready = true; enablePost(); return;
    }
    if (status === 'PROCESSING_FAILED') { fail("We couldn't process your video."); return; }
  } catch (error) {}
  setTimeout(poll, 150);
}
$('post').addEventListener('click', async () => {
  if ($('post').disabled) return;
  $('post').disabled = true;
  try {
    const answer = await fetch('__SHARES__', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({commentary, visibility, media: asset}),
    });
    const body = await answer.json();
    if (answer.ok) {
      $('share-modal').hidden = true;
      toast('__CONFIRMATION__ View post', 'success', '/feed/update/' + body.value.activityUrn + '/');
      return;
    }
    if (body.challenge) { $('post-challenge').hidden = false; return; }
    toast(body.message || 'Something went wrong. Please try again.', 'error', null);
  } catch (error) {
    toast('Something went wrong. Please try again.', 'error', null);
  }
  enablePost();
});
""".replace("__METADATA__", UPLOAD_METADATA)
    .replace("__SHARES__", SHARES)
    .replace("__CONFIRMATION__", CONFIRMATION)
)
