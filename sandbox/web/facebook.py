"""A SANDBOX of Facebook's web pages for browser automation: never used by production code paths.

It follows the structure the open-source Facebook web uploaders drive (see flows/facebook.yaml):

- `/` shows the login form in place (`form#login_form`: email, pass) to a visitor without the `xs`
  session cookie and the feed, with its "Your profile" link, to one with it; `/login/` is the login
  page other pages send to (`/login/?next=...`).
- `/reels/create/` (the Reels composer) takes a video (`input[type=file]`) and uploads it at once
  (progress in a `[role=progressbar]`, "Upload complete" once the file was probed as a video, an alert
  when it is none); Next leads to the reel's settings with the description editor
  (`div[role=textbox][contenteditable]`), where Publish posts once the upload is in; "Your reel is now
  published" then shows and the page moves to the profile's reels.
- `/<username>/reels/` lists the reels, each a link to `/reel/<id>` labelled with its description,
  newest first, once processed.
- A challenge (Facebook's checkpoint, `form[action*="/checkpoint/"]`) is shown on demand instead of a
  page, or in answer to Publish.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from sandbox.common import Request, Response, Route
from sandbox.web.pages import text
from sandbox.web.uploads import Form, SitePost, UploadSite

WWW_HOST = "www.facebook.com"
SESSION_COOKIE = "xs"
LOGIN = "/login/"
UPLOAD = "/reels/create/"
CONFIRMATION = "Your reel is now published"


class FacebookWebSandbox(UploadSite):
    """www.facebook.com's login, Reels composer and profile reels for one account (or Page)."""

    name = "facebook-web"
    roots: ClassVar[Mapping[str, str]] = {"api": WWW_HOST}
    session_cookie: ClassVar[str] = SESSION_COOKIE
    login_path: ClassVar[str] = LOGIN
    form: ClassVar[Form] = Form("email", "pass", "The password that you've entered is incorrect.")

    def __init__(
        self,
        data_dir: Path,
        *,
        username: str = "pellacia.sandbox",
        password: str = "sandbox-password",
        nickname: str = "Pellacia Press",
        processing_s: float = 0.0,
    ) -> None:
        super().__init__(
            data_dir,
            username=username,
            password=password,
            handle=username,
            nickname=nickname,
            processing_s=processing_s,
        )

    def site_routes(self) -> Sequence[Route]:
        return [
            ("GET", "/", "home", self._home),
            ("GET", UPLOAD, "upload_page", self._composer),
            ("GET", r"/reel/(?P<reel_id>\d+)/?", "video", self._reel),
            ("GET", r"/(?P<user>[\w.]+)/reels/?", "profile", self._profile),
        ]

    def new_post_id(self) -> str:
        return str(10**15 + secrets.randbelow(9 * 10**15))

    def post_path(self, post: SitePost) -> str:
        return f"/reel/{post.post_id}"

    def challenge_page(self) -> Response:
        return self.render("Facebook", f"<main>{CHECKPOINT}</main>")

    def login_body(self, back: str, problem: str) -> str:
        action = text(f"{LOGIN}?next={quote(back, safe='')}")
        return (
            f'<main><h1>facebook</h1><form id="login_form" method="post" action="{action}">'
            '<input type="text" name="email" placeholder="Email address or phone number">'
            '<input type="password" name="pass" placeholder="Password">'
            f'{problem}<button type="submit" name="login">Log in</button></form></main>'
        )

    def _nav(self) -> str:
        return (
            f'<div role="navigation"><a href="/" aria-label="Facebook">f</a>'
            f'<a href="/{text(self.handle)}" aria-label="Your profile">{text(self.nickname)}</a>'
            f'<a href="{UPLOAD}">Create reel</a></div>'
        )

    def _home(self, request: Request) -> Response:
        if self.sessions.user(request) is None:
            return self.render("Facebook – log in or sign up", self.login_body("/", ""))
        return self.render("Facebook", f'{self._nav()}<div role="main"><h1>Feed</h1></div>')

    def _composer(self, request: Request) -> Response:
        composer = COMPOSER.replace("__AFTER__", text(f"/{self.handle}/reels/"))
        body = f'{self._nav()}<div role="main">{composer}</div>'
        return self.upload_page(request, "Create reel | Facebook", body, STYLE)

    def _profile(self, request: Request) -> Response:
        if request.params["user"] != self.handle:
            return self.not_found()
        tiles = "".join(
            f'<div class="reel-tile"><a href="{text(self.post_path(post))}" role="link" '
            f'aria-label="{text(post.caption)}"><img alt="" width="120" height="213"></a></div>'
            for post in self.newest_first(self.username)
        )
        body = (
            f'{self._nav()}<div role="main"><h1>{text(self.nickname)}</h1>'
            f'<div data-pagelet="ProfileAppSection_0"><h2>Reels</h2>{tiles}</div></div>'
        )
        return self.render(f"{self.nickname} | Facebook", body)

    def _reel(self, request: Request) -> Response:
        post = self.find_post(request.params["reel_id"])
        if post is None:
            return self.render("Facebook", "<main>This content isn't available right now</main>", status=404)
        return self.render("Facebook", f'<div role="main"><div>{text(post.caption)}</div></div>')


CHECKPOINT = (
    '<form method="post" action="/checkpoint/1501092823525282/"><h2>Confirm it\'s you</h2>'
    '<p>We noticed unusual activity on your account.</p><button type="submit">Continue</button></form>'
)

COMPOSER = f"""
<div data-js="before-post">
 <h1>Create reel</h1>
 <div data-js="before-file"><span>Add video</span>
  <input type="file" accept="video/*,video/mp4,video/quicktime" data-js="file" style="display:none"></div>
 <div data-js="after-file" hidden>
  <div role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" data-js="progress"></div>
  <span data-js="progress-label" data-uploading="Uploading {{}}%" data-checking="Processing"
    data-done="Upload complete"></span>
  <div role="alert" data-js="upload-error" hidden></div>
  <span data-js="uploaded" hidden></span>
  <div data-js="panel"><h2>Edit</h2><span>Trim</span><span>Add audio</span></div>
  <div data-js="panel" hidden><h2>Reel settings</h2>
   <div role="textbox" contenteditable="true" aria-label="Describe your reel..." data-js="field"
     data-name="caption"></div>
   <div role="alert" data-js="alert" hidden></div>
  </div>
  <div role="button" tabindex="0" aria-label="Next" data-js="next">Next</div>
  <div role="button" tabindex="0" aria-label="Publish" aria-disabled="true" data-js="publish"
    data-after-post="__AFTER__" hidden>Publish</div>
 </div>
</div>
<div data-js="captcha" hidden>{CHECKPOINT}</div>
<div role="status" data-js="success" hidden>{CONFIRMATION}</div>
"""

STYLE = """
[role=button] { display: inline-block; padding: 6px 10px; border: 1px solid #ccc; cursor: pointer; }
[aria-disabled=true] { opacity: .5; }
[contenteditable] { display: block; min-height: 60px; border: 1px solid #ccc; padding: 6px;
  white-space: pre-wrap; }
[role=progressbar] { width: 240px; height: 4px; background: #eee; }
"""
