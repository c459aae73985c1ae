"""A SANDBOX of YouTube Studio's web pages for browser automation: never used by production code paths.

It follows the structure the maintained open-source uploaders drive (dreammis/social-auto-upload's
uploader/youtube_uploader, kseikyo/yt-recorder's constants; the element names and ids are theirs):

- `/` sends a visitor without the `SID` session cookie to Google's sign-in
  (`/v3/signin/identifier?continue=...`, an email/password form here) and one with it to the channel's
  dashboard, `/channel/<UC...>/`, as studio.youtube.com does.
- The dashboard's Create button (`#create-icon`) opens a menu whose "Upload videos" (`#text-item-0`)
  opens `ytcp-uploads-dialog`: `input[name=Filedata]`; picking a file uploads it (progress in
  `ytcp-video-upload-progress`: "Uploading N% ...", then "Checks complete. No issues found." once the
  file was probed as a video) and shows the Details step: the title (`#title-textarea #textbox`,
  pre-filled with the file's name), the description (`#description-textarea #textbox`), the audience
  radios (VIDEO_MADE_FOR_KIDS_MFK / _NOT_MFK), "Show more" (`#toggle-button`) with the altered-content
  radios; `#next-button` through Video elements and Checks to Visibility (PUBLIC / UNLISTED / PRIVATE)
  where `#done-button` publishes once the upload is in (aria-disabled). A post without an audience,
  altered-content or visibility answer is refused, as Studio does. "Video published" then shows the
  video's link (`span.video-url-fadeable a`).
- `/channel/<UC...>/videos/upload` is the channel's content list (signed in): `ytcp-video-row` rows with
  the title, the description and a "View on YouTube" link, newest first, once processed.
- A challenge (Google's reCAPTCHA, `#captcha-container`) is shown on demand instead of a page, or in
  answer to Done.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from sandbox.common import Request, Response, Route
from sandbox.web.pages import text
from sandbox.web.uploads import Form, SitePost, UploadSite

WWW_HOST = "studio.youtube.com"
SESSION_COOKIE = "SID"
LOGIN = "/v3/signin/identifier"
PRIVACY = ("PUBLIC", "UNLISTED", "PRIVATE")
MADE_FOR_KIDS = ("VIDEO_MADE_FOR_KIDS_MFK", "VIDEO_MADE_FOR_KIDS_NOT_MFK")
ALTERED_CONTENT = ("VIDEO_HAS_ALTERED_CONTENT_YES", "VIDEO_HAS_ALTERED_CONTENT_NO")
CONFIRMATION = "Video published"
_ID_CHARACTERS = string.ascii_letters + string.digits + "-_"


def channel_id() -> str:
    return "UC" + "".join(secrets.choice(_ID_CHARACTERS) for _ in range(22))


class YouTubeWebSandbox(UploadSite):
    """studio.youtube.com's sign-in, dashboard with the upload dialog, and content list for one channel;
    `handle` is the channel's id (UC...), what Studio's addresses name."""

    name = "youtube-web"
    roots: ClassVar[Mapping[str, str]] = {"api": WWW_HOST}
    session_cookie: ClassVar[str] = SESSION_COOKIE
    login_path: ClassVar[str] = LOGIN
    return_parameter: ClassVar[str] = "continue"
    form: ClassVar[Form] = Form(
        "identifier", "Passwd", "Wrong password. Try again or click Forgot password to reset it."
    )
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "privacy": PRIVACY,
        "made_for_kids": MADE_FOR_KIDS,
        "altered_content": ALTERED_CONTENT,
    }

    def __init__(
        self,
        data_dir: Path,
        *,
        username: str = "pellacia.sandbox@gmail.com",
        password: str = "sandbox-password",
        handle: str | None = None,
        nickname: str = "Pellacia Press",
        processing_s: float = 0.0,
    ) -> None:
        super().__init__(
            data_dir,
            username=username,
            password=password,
            handle=handle or channel_id(),
            nickname=nickname,
            processing_s=processing_s,
        )

    def site_routes(self) -> Sequence[Route]:
        return [
            ("GET", "/", "home", self._home),
            ("GET", r"/channel/(?P<channel>[\w-]+)/?", "upload_page", self._dashboard),
            ("GET", r"/channel/(?P<channel>[\w-]+)/videos/upload", "profile", self._content),
            ("GET", r"/shorts/(?P<video_id>[\w-]{11})", "video", self._video),
        ]

    def new_post_id(self) -> str:
        return "".join(secrets.choice(_ID_CHARACTERS) for _ in range(11))

    def post_path(self, post: SitePost) -> str:
        return f"/shorts/{post.post_id}"

    def challenge_page(self) -> Response:
        return self.render("Sorry...", f"<main>{CAPTCHA}</main>")

    # --- pages ------------------------------------------------------------------------------------------

    def login_body(self, back: str, problem: str) -> str:
        form = super().login_body(back, problem)
        return f'<div id="initialView"><h1 id="headingText">Sign in</h1>{form}</div>'

    def _home(self, request: Request) -> Response:
        if self.sessions.user(request) is None:
            return self.to_login(request)
        return Response(302, None, {"Location": f"/channel/{self.handle}/", "Cache-Control": "no-store"})

    def _dashboard(self, request: Request) -> Response:
        if request.params["channel"] != self.handle and self.sessions.user(request) is not None:
            return self.not_found()
        body = f"<ytcp-app>{self._header()}<main><h1>Channel dashboard</h1></main>{UPLOAD_DIALOG}</ytcp-app>"
        return self.upload_page(request, "Channel dashboard - YouTube Studio", body, STYLE)

    def _header(self) -> str:
        return (
            '<header><a href="/">Studio</a>'
            f'<a id="menu-item-content" href="/channel/{text(self.handle)}/videos/upload">Content</a>'
            '<ytcp-button id="create-icon" role="button" data-js="open" data-target="#create-menu">'
            "Create</ytcp-button>"
            '<tp-yt-paper-listbox id="create-menu" role="menu" hidden>'
            '<tp-yt-paper-item id="text-item-0" role="menuitem" data-js="open" '
            'data-target="ytcp-uploads-dialog" data-close="#create-menu">Upload videos</tp-yt-paper-item>'
            '<tp-yt-paper-item id="text-item-1" role="menuitem">Go live</tp-yt-paper-item>'
            "</tp-yt-paper-listbox></header>"
        )

    def _content(self, request: Request) -> Response:
        if self.sessions.user(request) is None:
            return self.to_login(request)
        if request.params["channel"] != self.handle:
            return self.not_found()
        rows = "".join(
            f'<ytcp-video-row><a id="video-title" href="/video/{text(post.post_id)}/edit">'
            f'{text(post.title)}</a><div id="description">{text(post.caption)}</div>'
            f'<a id="watch-on-yt" aria-label="View on YouTube" '
            f'href="{text(self.base_url + self.post_path(post))}">'
            "View on YouTube</a></ytcp-video-row>"
            for post in self.newest_first(self.username)
        )
        body = f"<ytcp-app>{self._header()}<main><h1>Channel content</h1>{rows}</main></ytcp-app>"
        return self.render("Channel content - YouTube Studio", body)

    def _video(self, request: Request) -> Response:
        post = self.find_post(request.params["video_id"])
        if post is None:
            return self.render("YouTube", "<main>This video isn't available anymore</main>", status=404)
        body = (
            f'<main><h1 id="title">{text(post.title)}</h1>'
            f'<div id="description">{text(post.caption)}</div></main>'
        )
        return self.render(f"{post.title} - YouTube", body)


CAPTCHA = (
    '<div id="captcha-container" role="dialog"><p>Our systems have detected unusual traffic from your '
    'computer network.</p><div class="g-recaptcha" title="reCAPTCHA"></div></div>'
)


def _radios(name: str, values: Sequence[str], labels: Sequence[str]) -> str:
    return "".join(
        f'<tp-yt-paper-radio-button name="{value}" role="radio" aria-checked="false" data-js="choice" '
        f'data-name="{name}" data-value="{value}">{label}</tp-yt-paper-radio-button>'
        for value, label in zip(values, labels, strict=True)
    )


AUDIENCE = _radios("made_for_kids", MADE_FOR_KIDS, ("Yes, it's made for kids", "No, it's not made for kids"))
ALTERED = _radios("altered_content", ALTERED_CONTENT, ("Yes", "No"))
VISIBILITY = _radios("privacy", PRIVACY, ("Public", "Unlisted", "Private"))
UPLOAD_DIALOG = f"""
<ytcp-uploads-dialog role="dialog" hidden>
 <div data-js="before-post">
  <h1 id="dialog-title">Upload videos</h1>
  <ytcp-uploads-file-picker data-js="before-file">
   <input type="file" name="Filedata" accept="video/*" data-js="file" style="display:none">
   <ytcp-button id="select-files-button" role="button">Select files</ytcp-button>
  </ytcp-uploads-file-picker>
  <div data-js="after-file" hidden>
   <div data-js="panel">
    <h2>Details</h2>
    <ytcp-social-suggestions-textbox id="title-textarea"><div id="textbox" contenteditable="true"
      role="textbox" aria-label="Add a title that describes your video" data-js="field"
      data-name="title"></div></ytcp-social-suggestions-textbox>
    <ytcp-social-suggestions-textbox id="description-textarea"><div id="textbox" contenteditable="true"
      role="textbox" aria-label="Tell viewers about your video" data-js="field"
      data-name="caption"></div></ytcp-social-suggestions-textbox>
    <div id="audience"><h3>Audience</h3>{AUDIENCE}</div>
    <ytcp-button id="toggle-button" role="button" data-js="open" data-target="#advanced">Show more
    </ytcp-button>
    <div id="advanced" hidden><h3>Altered content</h3>{ALTERED}</div>
   </div>
   <div data-js="panel" hidden><h2>Video elements</h2></div>
   <div data-js="panel" hidden><h2>Checks</h2><p>We'll check your video for issues.</p></div>
   <div data-js="panel" hidden><h2>Visibility</h2>
    <tp-yt-paper-radio-group id="privacy-radios">{VISIBILITY}</tp-yt-paper-radio-group>
   </div>
   <div class="footer">
    <ytcp-video-upload-progress>
     <span class="progress-label" data-js="progress-label" data-uploading="Uploading {{}}% ..."
       data-checking="Upload complete ... Checking for issues" data-done="Checks complete. No issues found.">
       Uploading 0% ...</span>
     <tp-yt-paper-progress id="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
       aria-valuenow="0" data-js="progress"></tp-yt-paper-progress>
     <span class="error-short" role="alert" data-js="upload-error" hidden></span>
     <span data-js="uploaded" hidden></span>
    </ytcp-video-upload-progress>
    <ytcp-button id="next-button" role="button" data-js="next">Next</ytcp-button>
    <ytcp-button id="done-button" role="button" aria-disabled="true" data-js="publish" hidden>Publish
    </ytcp-button>
    <div id="error-message" role="alert" data-js="alert" hidden></div>
   </div>
  </div>
 </div>
 <div data-js="captcha" hidden>{CAPTCHA}</div>
 <ytcp-video-share-dialog data-js="success" hidden>
  <h1>{CONFIRMATION}</h1>
  <ytcp-video-info><span class="video-url-fadeable"><a class="style-scope ytcp-video-info" data-js="post-link"
    href="#"></a></span></ytcp-video-info>
  <ytcp-button id="close-button" role="button">Close</ytcp-button>
 </ytcp-video-share-dialog>
</ytcp-uploads-dialog>
"""

STYLE = """
ytcp-button, tp-yt-paper-item, tp-yt-paper-radio-button { display: inline-block; padding: 6px 10px;
  border: 1px solid #ccc; margin: 2px; cursor: pointer; }
tp-yt-paper-radio-button[aria-checked=true] { background: #def; }
[contenteditable] { display: block; min-height: 24px; border: 1px solid #ccc; padding: 6px;
  white-space: pre-wrap; }
tp-yt-paper-progress { display: block; width: 240px; height: 4px; background: #eee; }
ytcp-button[aria-disabled=true] { opacity: .5; }
ytcp-uploads-dialog, ytcp-video-share-dialog { display: block; border: 1px solid #999; padding: 12px; }
"""
