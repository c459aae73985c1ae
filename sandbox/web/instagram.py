"""A SANDBOX of Instagram's web pages for browser automation: never used by production code paths.

It follows the structure the open-source Instagram web uploaders drive (see flows/instagram.yaml):

- `/` shows the login form in place (`form#loginForm`, posting to `/accounts/login/`) to a visitor
  without the `sessionid` cookie, and the feed to one with it: the side bar's Create link
  (`svg[aria-label="New post"]`) opens a menu whose "Post" opens the "Create new post" dialog.
- The dialog takes a file (`input[type=file]`) and uploads it at once (progress in a
  `[role=progressbar]`, "Video uploaded" once the file was probed as a video, an alert when it is none);
  "Video posts are now shared as reels" asks for an OK; Next goes from Crop to Edit to the caption
  (`div[aria-label="Write a caption..."]`, contenteditable), where Share posts once the upload is in.
  "Your reel has been shared." then shows.
- `/<username>/` is the profile: reel tiles linking to `/reel/<shortcode>/`, the caption in the
  thumbnail's alt text, newest first, once processed.
- A challenge (Instagram's checkpoint, `form[action^="/challenge/"]`) is shown on demand instead of a
  page, or in answer to Share.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from sandbox.common import Request, Response, Route
from sandbox.web.pages import text
from sandbox.web.uploads import Form, SitePost, UploadSite

WWW_HOST = "www.instagram.com"
SESSION_COOKIE = "sessionid"
LOGIN = "/accounts/login/"
CONFIRMATION = "Your reel has been shared."
_SHORTCODE = string.ascii_letters + string.digits + "-_"


class InstagramWebSandbox(UploadSite):
    """www.instagram.com's login, create dialog and profile for one account."""

    name = "instagram-web"
    roots: ClassVar[Mapping[str, str]] = {"api": WWW_HOST}
    session_cookie: ClassVar[str] = SESSION_COOKIE
    login_path: ClassVar[str] = LOGIN
    form: ClassVar[Form] = Form(
        "username", "password", "Sorry, your password was incorrect. Please double-check your password."
    )

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
            ("GET", "/", "upload_page", self._home),
            ("GET", r"/reel/(?P<shortcode>[\w-]+)/?", "video", self._reel),
            ("GET", r"/(?P<user>[\w.]+)/?", "profile", self._profile),
        ]

    def new_post_id(self) -> str:
        return "".join(secrets.choice(_SHORTCODE) for _ in range(11))

    def post_path(self, post: SitePost) -> str:
        return f"/reel/{post.post_id}/"

    def challenge_page(self) -> Response:
        return self.render("Instagram", f"<main>{CHECKPOINT}</main>")

    def login_body(self, back: str, problem: str) -> str:
        action = text(f"{LOGIN}?next={quote(back, safe='')}")
        return (
            f'<main><h1>Instagram</h1><form id="loginForm" method="post" action="{action}">'
            '<input name="username" aria-label="Phone number, username, or email" autocomplete="username">'
            '<input type="password" name="password" aria-label="Password">'
            f'{problem}<button type="submit">Log in</button></form></main>'
        )

    def _home(self, request: Request) -> Response:
        if self.sessions.user(request) is None:
            return self.render("Instagram", self.login_body("/", ""))  # the login form, in place
        nav = (
            '<nav><a href="/" role="link">Home</a>'
            '<a href="#" role="link" data-js="open" data-target="#create-menu">'
            '<svg aria-label="New post" role="img" width="24" height="24"><rect width="24" height="24">'
            "</rect></svg><span>Create</span></a>"
            '<div id="create-menu" role="menu" hidden><a href="#" role="link" data-js="open" '
            'data-target="#create-dialog" data-close="#create-menu"><span>Post</span></a>'
            '<a href="#" role="link"><span>Live video</span></a></div>'
            f'<a href="/{text(self.handle)}/" role="link"><img alt="{text(self.handle)}\'s profile picture" '
            'width="24" height="24"><span>Profile</span></a></nav>'
        )
        body = f'<div id="react-root">{nav}<main role="main"><h1>Feed</h1></main>{CREATE_DIALOG}</div>'
        return self.upload_page(request, "Instagram", body, STYLE)

    def _profile(self, request: Request) -> Response:
        if request.params["user"] != self.handle:
            return self.not_found()
        tiles = "".join(
            f'<div class="_aabd"><a href="{text(self.post_path(post))}" role="link">'
            f'<img alt="{text(post.caption)}" width="120" height="213"></a></div>'
            for post in self.newest_first(self.username)
        )
        body = (
            f'<main role="main"><header><h2>{text(self.handle)}</h2><span>{text(self.nickname)}</span>'
            f"</header><article>{tiles}</article></main>"
        )
        return self.render(f"{self.nickname} (@{self.handle}) • Instagram photos and videos", body)

    def _reel(self, request: Request) -> Response:
        post = self.find_post(request.params["shortcode"])
        if post is None:
            return self.not_found()
        return self.render("Instagram", f"<main><h1>{text(post.caption)}</h1></main>")


CHECKPOINT = (
    '<form id="challenge" method="post" action="/challenge/action/"><h2>Help us confirm it\'s you</h2>'
    '<p>Enter the code we sent to your email.</p><input name="security_code"></form>'
)

CREATE_DIALOG = f"""
<div id="create-dialog" role="dialog" aria-label="Create new post" hidden>
 <div data-js="before-post">
  <div class="header"><h1>Create new post</h1>
   <span data-js="after-file" hidden><div role="button" tabindex="0" data-js="next">Next</div></span>
   <div role="button" tabindex="0" aria-disabled="true" data-js="publish" hidden>Share</div>
  </div>
  <div data-js="before-file"><p>Drag photos and videos here</p>
   <form enctype="multipart/form-data" method="POST" role="presentation">
    <input type="file" accept="image/jpeg,image/png,video/mp4,video/quicktime" multiple data-js="file"
      style="display:none"></form>
   <button type="button">Select from computer</button>
  </div>
  <div data-js="after-file" hidden>
   <div data-js="modal" role="dialog"><h3>Video posts are now shared as reels</h3>
    <button type="button" data-js="dismiss">OK</button></div>
   <div role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" data-js="progress"></div>
   <span data-js="progress-label" data-uploading="Uploading {{}}%" data-checking="Processing"
     data-done="Video uploaded"></span>
   <div role="alert" data-js="upload-error" hidden></div>
   <span data-js="uploaded" hidden></span>
   <div data-js="panel"><h2>Crop</h2><button type="button" aria-label="Select crop">Crop</button></div>
   <div data-js="panel" hidden><h2>Edit</h2><span>Cover photo</span><span>Trim</span></div>
   <div data-js="panel" hidden><h2>Create new reel</h2>
    <div aria-label="Write a caption..." contenteditable="true" role="textbox" spellcheck="true"
      data-js="field" data-name="caption"></div>
    <div role="alert" data-js="alert" hidden></div>
   </div>
  </div>
 </div>
 <div data-js="captcha" hidden>{CHECKPOINT}</div>
 <div data-js="success" hidden><img alt="Animated checkmark" width="96" height="96">
  <h3>{CONFIRMATION}</h3></div>
</div>
"""

STYLE = """
[role=button], button { display: inline-block; padding: 6px 10px; border: 1px solid #ccc; cursor: pointer; }
[aria-disabled=true] { opacity: .5; }
[contenteditable] { display: block; min-height: 60px; border: 1px solid #ccc; padding: 6px;
  white-space: pre-wrap; }
[role=progressbar] { width: 240px; height: 4px; background: #eee; }
#create-dialog { border: 1px solid #999; padding: 12px; }
"""
