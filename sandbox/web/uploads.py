"""What the YouTube Studio, Instagram and Facebook web sandboxes share: a form login that sets the
site's session cookie, an upload page that sends a visitor without a session to the login, the page's
own upload API (create, PUT with progress, status while the file is probed, post) and the posts with
the sha256 of each stored video.

Each site renders its own pages (their structure follows the real ones; see each module) and declares
the choices its post form must carry (privacy, made for kids, ...). The pages run one shared script
that keys on `data-js` hooks, never on the ids, names and labels automation uses, so a redesign that
renames those (`redesign`) leaves the page working for a person and breaks only the flow data:

- `[data-js=file]` the file input; picking a file creates an upload and PUTs it with progress into
  `[data-js=progress]` (aria-valuenow), then polls its status: `[data-js=uploaded]` shows once the file
  was probed as a video, `[data-js=upload-error]` shows the reason when it is none.
- `[data-js=open]` shows what `data-target` selects (a menu, the upload dialog); `[data-js=dismiss]`
  hides its `[data-js=modal]`; `[data-js=next]` moves to the next `[data-js=panel]` and, on the last
  one, gives way to the `[data-js=publish]` button.
- `[data-js=field][data-name]` contenteditable editors (their text is sent as typed); the title is
  pre-filled with the file's name, as the sites do.
- `[data-js=choice][data-name][data-value]` radio buttons (aria-checked); `[data-js=publish]` posts once
  the upload is ready (`aria-disabled` turns "false"), `[data-js=success]` then shows with every
  `[data-js=post-link]` pointing at the new post, or the page moves to `data-after-post`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from abc import abstractmethod
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
    page,
    redirect,
    safe_return,
    session_cookie,
    text,
)

API = "/__upload_api"  # the page's own endpoints, under one prefix on every site
CHECK_S = 1.0  # how long a held content check keeps Post disabled


@dataclass
class SiteUpload:
    upload_id: str
    user: str
    path: Path
    size: int = 0
    sha256: str = ""
    received: bool = False
    resolution: str | None = None
    failure: str | None = None
    checked_at: float = 0.0  # when the site's checks finish (a held content check)


@dataclass
class SitePost:
    post_id: str
    user: str
    title: str
    caption: str
    choices: dict[str, str]
    sha256: str
    size: int
    created_at: float


@dataclass
class Form:
    """The login form's field names and the words of its page."""

    user_field: str
    password_field: str
    wrong: str = "The password you entered is incorrect."


class UploadSite(WebSandbox):
    """One account's login, upload page and profile on a site; subclasses render the pages.

    `processing_s`: how long a post takes to show on the profile after it was made.
    """

    session_cookie: ClassVar[str]
    login_path: ClassVar[str]
    return_parameter: ClassVar[str] = "next"
    form: ClassVar[Form]
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {}  # name -> values the post form must send one of

    def __init__(
        self,
        data_dir: Path,
        *,
        username: str,
        password: str,
        handle: str,
        nickname: str,
        processing_s: float = 0.0,
    ) -> None:
        super().__init__(data_dir)
        self.username = username
        self.password = password
        self.handle = handle  # what the site's addresses call the account (/<handle>/, /channel/<id>)
        self.nickname = nickname
        self.processing_s = processing_s
        self.sessions = Sessions(self.session_cookie)
        self.challenges = Challenges()
        self._uploads: dict[str, SiteUpload] = {}
        self._posts: list[SitePost] = []
        self._content_checks = 0
        self._state = threading.Lock()

    def routes(self) -> Sequence[Route]:
        return [
            ("GET", self.login_path, "login", self._login_page),
            ("POST", self.login_path, "login_submit", self._login_submit),
            ("GET", "/logout", "logout", self._logout),
            ("POST", f"{API}/upload", "upload_create", self._upload_create),
            ("PUT", rf"{API}/upload/(?P<upload_id>[\w-]+)", "upload", self._upload_put),
            ("GET", rf"{API}/upload/(?P<upload_id>[\w-]+)", "upload_status", self._upload_status),
            ("POST", f"{API}/post", "post", self._post),
            *self.site_routes(),
        ]

    @abstractmethod
    def site_routes(self) -> Sequence[Route]:
        """The site's own pages (home, upload page, profile, post)."""

    @abstractmethod
    def new_post_id(self) -> str: ...

    @abstractmethod
    def post_path(self, post: SitePost) -> str:
        """The post's public page, under the site's root."""

    @abstractmethod
    def challenge_page(self) -> Response:
        """The site's challenge (captcha, checkpoint) shown instead of a page."""

    # --- what tests steer and inspect ----------------------------------------------------------------

    def log_in(self) -> str:
        """A live session for the account, as after a login: the session cookie's value."""
        return self.sessions.issue(self.username)

    def expire_sessions(self) -> None:
        """Every session ends (the site logged the account out): the pages send to the login again."""
        self.sessions.expire_all()

    def challenge_next(self, where: str = "upload", times: int = 1) -> None:
        """The next `times` visits of `where` ("upload", "login", "post") meet a challenge instead."""
        self.challenges.add(where, times)

    def hold_content_check(self, times: int = 1) -> None:
        """For the next `times` uploads the site's checks still run for a moment after the file is in."""
        with self._state:
            self._content_checks += times

    def post_from_app(self, caption: str, video: Path, title: str = "") -> dict[str, Any]:
        """A post made outside the web page (the phone app, a person, the API): the profile shows it."""
        post = SitePost(
            post_id=self.new_post_id(),
            user=self.username,
            title=title or caption[:100],
            caption=caption,
            choices={name: values[0] for name, values in self.choices.items()},
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
                    "id": post.post_id,
                    "user": post.user,
                    "title": post.title,
                    "caption": post.caption,
                    "choices": dict(post.choices),
                    "sha256": post.sha256,
                    "size": post.size,
                    "url": self.base_url + self.post_path(post),
                    "created_at": post.created_at,
                }
                for post in self._posts
            ]

    # --- shared pages ----------------------------------------------------------------------------------

    def render(
        self, title: str, body: str, *, script: str = "", style: str = "", status: int = 200
    ) -> Response:
        """As WebSandbox's, and a redesign renames ids, names and aria-labels too (what these sites'
        automation keys on)."""
        for old, new in self.renamed.items():
            for attribute in ("id", "name", "aria-label"):
                body = body.replace(f'{attribute}="{old}"', f'{attribute}="{new}"')
        return super().render(title, body, script=script, style=style, status=status)

    def to_login(self, request: Request) -> Response:
        back = request.path + (
            "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in request.query.items())
            if request.query
            else ""
        )
        return redirect(f"{self.login_path}?{self.return_parameter}={quote(back, safe='')}")

    def login_body(self, back: str, problem: str) -> str:
        """The login form (sites restyle it; the field names are the form's)."""
        action = f"{self.login_path}?{self.return_parameter}={quote(back, safe='')}"
        return (
            f"<main><h1>Log in</h1>"
            f'<form method="post" action="{text(action)}">'
            f'<input name="{self.form.user_field}" autocomplete="username"><br>'
            f'<input type="password" name="{self.form.password_field}" autocomplete="current-password"><br>'
            f'{problem}<button type="submit">Log in</button></form></main>'
        )

    def _login_page(self, request: Request, error: str = "") -> Response:
        if self.challenges.take("login"):
            return self.challenge_page()
        back = safe_return(request.query.get(self.return_parameter))
        problem = f'<div role="alert">{text(error)}</div>' if error else ""
        return self.render("Log in", self.login_body(back, problem))

    def _login_submit(self, request: Request) -> Response:
        form = request.form()
        if (
            form.get(self.form.user_field) != self.username
            or form.get(self.form.password_field) != self.password
        ):
            return self._login_page(request, self.form.wrong)
        if self.challenges.take("login"):
            return self.challenge_page()
        session = self.sessions.issue(self.username)
        back = safe_return(request.query.get(self.return_parameter))
        return redirect(back, set_cookie=session_cookie(self.session_cookie, session))

    def _logout(self, request: Request) -> Response:
        self.sessions.end(request)
        return redirect("/", set_cookie=cleared_cookie(self.session_cookie))

    def upload_page(self, request: Request, title: str, body: str, style: str = "") -> Response:
        """The upload page for a visitor with a live session; the login, or a challenge, otherwise."""
        if self.sessions.user(request) is None:
            return self.to_login(request)
        if self.challenges.take("upload"):
            return self.challenge_page()
        return self.render(title, body, script=UPLOAD_SCRIPT, style=style)

    def newest_first(self, user: str) -> list[SitePost]:
        with self._state:
            return [post for post in reversed(self._posts) if post.user == user and self.processed(post)]

    def processed(self, post: SitePost) -> bool:
        return time.time() >= post.created_at + self.processing_s

    def find_post(self, post_id: str) -> SitePost | None:
        with self._state:
            post = next((p for p in self._posts if p.post_id == post_id), None)
        return post if post is not None and self.processed(post) else None

    def not_found(self) -> Response:
        return page("Page not found", "<main>Sorry, this page isn't available.</main>", status=404)

    # --- the page's own API ---------------------------------------------------------------------------

    def _upload_create(self, request: Request) -> Response:
        user = self.sessions.user(request)
        if user is None:
            return Response(401, {"message": "login required"})
        upload_id = f"u{self.next_id():04d}{secrets.token_hex(2)}"
        with self._state:
            held = self._content_checks > 0
            self._content_checks -= 1 if held else 0
            self._uploads[upload_id] = SiteUpload(upload_id, user, self.data_dir / f"{upload_id}.video")
            self._uploads[upload_id].checked_at = time.time() + CHECK_S if held else 0.0
        return Response(200, {"upload_id": upload_id})

    def _owned_upload(self, request: Request) -> SiteUpload | None:
        user = self.sessions.user(request)
        with self._state:
            upload = self._uploads.get(request.params.get("upload_id", ""))
        return upload if upload is not None and user == upload.user else None

    def _upload_put(self, request: Request) -> Response:
        upload = self._owned_upload(request)
        if upload is None:
            request.drain()
            return Response(404, {"message": "no such upload"})
        digest = hashlib.sha256()
        with upload.path.open("wb") as target:
            upload.size = request.copy_body_to(target, digest)
        upload.sha256 = digest.hexdigest()
        facts = probe_video(upload.path)
        if facts is None:
            upload.failure = "This file isn't a video we can process. Try another file."
        else:
            upload.resolution = f"{min(facts.width, facts.height)}p"
            upload.checked_at = max(upload.checked_at, time.time())
        upload.received = True
        return Response(200, {"size": upload.size})

    def _upload_status(self, request: Request) -> Response:
        upload = self._owned_upload(request)
        if upload is None:
            return Response(404, {"message": "no such upload"})
        if not upload.received:
            return Response(200, {"status": "uploading"})
        if upload.failure:
            return Response(200, {"status": "failed", "reason": upload.failure})
        if time.time() < upload.checked_at:
            return Response(200, {"status": "checking", "resolution": upload.resolution})
        return Response(200, {"status": "ready", "resolution": upload.resolution})

    def _post(self, request: Request) -> Response:
        user = self.sessions.user(request)
        body = request.json()
        if user is None:
            return Response(401, {"message": "login required"})
        if not isinstance(body, dict):
            return Response(400, {"message": "Something went wrong. Please try again."})
        if self.challenges.take("post"):
            return Response(403, {"message": "challenge required", "captcha": True})
        with self._state:
            upload = self._uploads.get(str(body.get("upload_id", "")))
        ready = (
            upload is not None and upload.received and not upload.failure and time.time() >= upload.checked_at
        )
        if upload is None or upload.user != user or not ready:
            return Response(400, {"message": "Something went wrong. Please try again."})
        sent = body.get("choices")
        chosen: dict[str, Any] = sent if isinstance(sent, dict) else {}
        choices = {name: str(chosen.get(name, "")) for name in self.choices}
        for name, values in self.choices.items():
            if choices[name] not in values:
                return Response(400, {"message": f"Choose {name.replace('_', ' ')} before posting."})
        post = SitePost(
            post_id=self.new_post_id(),
            user=user,
            title=str(body.get("title", "")),
            caption=str(body.get("caption", "")),
            choices=choices,
            sha256=upload.sha256,
            size=upload.size,
            created_at=time.time(),
        )
        with self._state:
            self._posts.append(post)
            del self._uploads[upload.upload_id]
        return Response(200, {"id": post.post_id, "url": self.base_url + self.post_path(post)})


# The pages' shared logic (see the module's docstring for the hooks).
UPLOAD_SCRIPT = """
const $ = (hook, root) => (root || document).querySelector('[data-js="' + hook + '"]');
const $$ = (hook, root) => Array.from((root || document).querySelectorAll('[data-js="' + hook + '"]'));
const choices = {};
let uploadId = null, ready = false;
function show(element, visible) { if (element) element.hidden = !visible; }
function progress(percent) {
  const bar = $('progress'); if (!bar) return;
  bar.setAttribute('aria-valuenow', String(percent));
  const label = $('progress-label');
  if (label) label.textContent = label.dataset.uploading.replace('{}', percent);
}
function uploadFailed(message) { const box = $('upload-error'); box.textContent = message; show(box, true); }
function alertWith(message) {
  const box = $('alert'); if (!box) return;
  box.textContent = message; show(box, true);
}
function enable() {
  for (const button of $$('publish')) button.setAttribute('aria-disabled', ready ? 'false' : 'true');
}
for (const opener of $$('open')) opener.addEventListener('click', () => {
  for (const target of document.querySelectorAll(opener.dataset.target)) show(target, true);
  if (!opener.dataset.close) return;
  for (const gone of document.querySelectorAll(opener.dataset.close)) show(gone, false);
});
for (const closer of $$('dismiss')) {
  closer.addEventListener('click', () => show(closer.closest('[data-js="modal"]'), false));
}
for (const next of $$('next')) next.addEventListener('click', () => {
  const panels = $$('panel'), current = panels.findIndex((panel) => !panel.hidden);
  if (current < 0 || current + 1 >= panels.length) return;
  show(panels[current], false); show(panels[current + 1], true);
  if (current + 2 < panels.length) return;
  for (const other of $$('next')) show(other, false);  // the last step: Next gives way to Post
  for (const button of $$('publish')) show(button, true);
});
for (const choice of $$('choice')) choice.addEventListener('click', () => {
  choices[choice.dataset.name] = choice.dataset.value;
  const group = '[data-js="choice"][data-name="' + choice.dataset.name + '"]';
  for (const other of document.querySelectorAll(group)) {
    other.setAttribute('aria-checked', String(other === choice));
  }
});
function fieldText(name) {
  const box = document.querySelector('[data-js="field"][data-name="' + name + '"]');
  return box ? box.innerText.replace(/\\n$/, '') : '';
}
$('file').addEventListener('change', async () => {
  const file = $('file').files[0];
  if (!file) return;
  for (const hidden of $$('after-file')) show(hidden, true);
  for (const gone of $$('before-file')) show(gone, false);
  const title = document.querySelector('[data-js="field"][data-name="title"]');
  if (title) title.textContent = file.name.replace(/\\.[^.]+$/, '');
  const created = await fetch('__API__/upload', {method: 'POST'});
  if (!created.ok) { uploadFailed("Upload failed. Please try again."); return; }
  uploadId = (await created.json()).upload_id;
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', '__API__/upload/' + uploadId);
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) progress(Math.min(99, Math.floor(event.loaded * 100 / event.total)));
  };
  xhr.onload = () => {
    if (xhr.status === 200) { progress(100); poll(); } else uploadFailed('Upload failed. Please try again.');
  };
  xhr.onerror = () => uploadFailed("Upload failed. Network error.");
  xhr.send(file);
});
async function poll() {
  try {
    const answer = await (await fetch('__API__/upload/' + uploadId)).json();
    const label = $('progress-label');
    if (answer.status === 'checking' && label) label.textContent = label.dataset.checking;
    if (answer.status === 'ready') {
      if (label) label.textContent = label.dataset.done.replace('{}', answer.resolution);
      show($('uploaded'), true); ready = true; enable(); return;
    }
    if (answer.status === 'failed') { uploadFailed(answer.reason); return; }
  } catch (error) {}
  setTimeout(poll, 150);
}
for (const button of $$('publish')) button.addEventListener('click', async () => {
  if (button.getAttribute('aria-disabled') !== 'false') return;
  ready = false; enable();
  try {
    const answer = await fetch('__API__/post', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(
        {upload_id: uploadId, title: fieldText('title'), caption: fieldText('caption'), choices}),
    });
    const body = await answer.json();
    if (answer.ok) {
      for (const link of $$('post-link')) { link.href = body.url; link.textContent = body.url; }
      for (const gone of $$('before-post')) show(gone, false);
      show($('success'), true);
      if (button.dataset.afterPost) setTimeout(() => { location.href = button.dataset.afterPost; }, 400);
      return;
    }
    if (body.captcha) { show($('captcha'), true); return; }
    alertWith(body.message || 'Something went wrong. Please try again.');
  } catch (error) {
    alertWith('Network error. Please try again.');
  }
  ready = true; enable();
});
""".replace("__API__", API)
