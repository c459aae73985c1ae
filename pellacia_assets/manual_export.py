"""Everything a person needs to finish a manual-queue entry by hand, in one folder.

For a post: the video, `post.txt` with the exact words the factory would have sent to that platform for
that part (title, the caption as the platform shows it, hashtags), and `INSTRUCTIONS.md`, the clicks on
that platform's own site or app, ending with the `pellacia-dist manual resolve` command that records the
post. For a quarantined file: the file and what came with it, why it was refused, and how to drop it again.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from pellacia_assets.manifests import ManifestError, load_script, load_video
from pellacia_assets.scripting.errors import ScriptError
from resources.database.manual import REASON_TEXT, ManualError
from resources.database.models import ManualQueueItem, StoryRecord
from resources.media_store.store import MediaStore
from resources.platforms.base import VideoPost
from resources.platforms.config import PlatformSettings
from resources.platforms.limits import limits_for

POST_FILE = "post.txt"
INSTRUCTIONS_FILE = "INSTRUCTIONS.md"
ARTIFACTS_DIR = "browser"  # the failed browser attempts' screenshots and traces


@dataclass(frozen=True)
class PostMaterial:
    """One part's video and the copy for one platform; `caption` is the post text exactly as sent."""

    video: Path
    title: str
    caption: str
    hashtags: tuple[str, ...]
    parts: int


def post_material(session: Session, store: MediaStore, entry: ManualQueueItem) -> PostMaterial:
    """The entry's video and copy: from the script and video manifests (every produced or delivered
    story), or, for a file sent with `pellacia-dist upload` alone, from its story record."""
    key, platform = str(entry.story_key), str(entry.platform)
    try:
        script = load_script(store, key)
        videos = load_video(store, key)
        part = next((p for p in script.parts if p.number == entry.part), None)
        if part is None or platform not in part.copy:
            raise ManifestError(f"the script of '{key}' has no {platform} copy for part {entry.part}")
        copy = part.copy[platform]
        video = store.require(key, "video", videos.part(entry.part).file)
        post = VideoPost(video, copy.title, copy.caption, copy.hashtags)
        return PostMaterial(video, copy.title, post.caption_for(platform), copy.hashtags, len(script.parts))
    except (FileNotFoundError, ManifestError, ScriptError) as error:
        produced_error = error
    record = session.get(StoryRecord, key)
    if record is None or record.source_kind != "upload" or not Path(record.source_ref).is_file():
        raise ManualError(f"manual entry {entry.id}: nothing to post by hand yet ({produced_error})")
    hashtags = tuple(record.tags or ())
    post = VideoPost(Path(record.source_ref), record.title, record.body, hashtags)
    return PostMaterial(post.video, record.title, post.caption_for(platform), hashtags, 1)


def export_entry(session: Session, store: MediaStore, entry: ManualQueueItem, to_dir: Path) -> Path:
    """Write the entry's folder at `to_dir` (made if missing, refreshed if there) and record it."""
    to_dir.mkdir(parents=True, exist_ok=True)
    if entry.story_key is not None and entry.platform is not None:
        _export_post(session, store, entry, to_dir)
    elif entry.source_path is not None:
        _export_file(entry, to_dir)
    else:
        raise ManualError(f"manual entry {entry.id} names neither a post nor a file; nothing to export")
    _export_artifacts(entry, to_dir)
    entry.export_path = str(to_dir)
    session.flush()
    return to_dir


def place(source: Path, target: Path) -> None:
    """`target` becomes `source`'s content: a hard link (no copy of a large video), or a copy where a link
    cannot be made (another filesystem)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _export_artifacts(entry: ManualQueueItem, to_dir: Path) -> None:
    """What the failed browser attempts saw (screenshot, page HTML, Playwright trace), under
    `browser/<attempt>/`, so the person sees the challenge or the changed page next to the post."""
    for folder in map(Path, entry.artifacts or ()):
        if not folder.is_dir():
            continue
        target = to_dir / ARTIFACTS_DIR / folder.name
        target.mkdir(parents=True, exist_ok=True)
        for file in folder.iterdir():
            if file.is_file():
                place(file, target / file.name)


# --- a post ----------------------------------------------------------------------------------------------


def _export_post(session: Session, store: MediaStore, entry: ManualQueueItem, to_dir: Path) -> None:
    platform = str(entry.platform)
    material = post_material(session, store, entry)
    video_name = f"{entry.story_key}-part-{entry.part}{material.video.suffix or '.mp4'}"
    place(material.video, to_dir / video_name)
    (to_dir / POST_FILE).write_text(_post_text(entry, material, video_name), encoding="utf-8")
    steps = PLATFORM_STEPS[platform](material, video_name, PlatformSettings.from_env(platform).options)
    account = f" (account `{entry.account}`)" if entry.account else ""
    lines = [
        f"# Post manual entry {entry.id} by hand on {PLATFORM_NAMES[platform]}",
        "",
        f"Story `{entry.story_key}`, part {entry.part} of {material.parts}, on {platform}{account}.",
        f"Why it is here: {REASON_TEXT.get(entry.reason, entry.reason)}. {entry.detail}".rstrip(),
        "",
        f"The video is `{video_name}`; the words are in `{POST_FILE}`: copy each block between its marker "
        "lines exactly, without the markers.",
        "",
        *_numbered([*steps, _resolve_step(entry.id, PLATFORM_URLS[platform])]),
        *_afterwards(entry, material.parts),
    ]
    (to_dir / INSTRUCTIONS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _afterwards(entry: ManualQueueItem, parts: int) -> list[str]:
    lines = []
    if parts > 1:
        lines.append(
            f"Post the parts in order on this account: part {entry.part} goes out after part "
            f"{entry.part - 1} is live and before part {entry.part + 1}."
            if 1 < entry.part < parts
            else f"Post the parts in order on this account (this is part {entry.part} of {parts})."
        )
    retry = (
        f" (`pellacia-dist queue retry --id {entry.queue_id}` hands it back to automation instead)"
        if entry.queue_id is not None
        else ""
    )
    lines.append(
        f"While the entry is open the posting queue leaves this post alone{retry}; once resolved, the "
        "publish ledger holds your post and the factory never posts it again."
    )
    return [paragraph for line in lines for paragraph in ("", line)]


def _post_text(entry: ManualQueueItem, material: PostMaterial, video_name: str) -> str:
    platform = str(entry.platform)
    has_title = limits_for(platform).title_max is not None
    blocks = [
        f"Story {entry.story_key}, part {entry.part} of {material.parts}, {platform}",
        f"Video: {video_name}",
        "",
        "----- TITLE -----"
        if has_title
        else "----- TITLE (no title field here: it begins the caption) -----",
        material.title,
        "----- CAPTION -----",
        material.caption,
        "----- HASHTAGS (already in the caption) -----",
        " ".join(material.hashtags),
    ]
    if platform == "youtube":
        blocks += ["----- TAGS -----", ", ".join(tag.lstrip("#") for tag in material.hashtags)]
    return "\n".join([*blocks, "----- END -----"]) + "\n"


def _numbered(steps: list[str]) -> list[str]:
    return [f"{number}. {step}" for number, step in enumerate(steps, 1)]


def _resolve_step(entry_id: int, example: str) -> str:
    return (
        "Copy the address of the live post and record it:\n\n"
        f"   ```\n   pellacia-dist manual resolve --id {entry_id} --post-url URL\n   ```\n\n"
        f"   with URL the post's address, e.g. `{example}`."
    )


def _choice(options: dict[str, str], option: str, variable: str, meaning: str) -> str:
    value = options.get(option)
    if value:
        return f"`{value}` (from {variable})"
    return f"your own answer ({variable} is not set, and the factory never assumes {meaning})"


def _youtube_steps(material: PostMaterial, video: str, options: dict[str, str]) -> list[str]:
    kids = _choice(options, "made_for_kids", "PELLACIA_YOUTUBE_MADE_FOR_KIDS", "whether it is made for kids")
    synthetic = _choice(
        options, "synthetic_media", "PELLACIA_YOUTUBE_SYNTHETIC_MEDIA", "whether it is altered content"
    )
    privacy = _choice(options, "privacy", "PELLACIA_YOUTUBE_PRIVACY", "the visibility")
    scheduled = options.get("publish_at")
    return [
        "Open https://studio.youtube.com signed in to the channel, then **Create** (top right) → "
        f"**Upload videos** and choose `{video}`. A vertical video of up to 3 minutes becomes a Short.",
        "**Details**: paste the TITLE block into **Title** and the CAPTION block into **Description**.",
        f"**Audience**: answer *Is this video made for kids?* with {kids}.",
        "**Show more**: under **Altered content** answer *Yes* or *No* with "
        f"{synthetic}; paste the TAGS block into **Tags**.",
        "Click **Next** through **Video elements** and **Checks** (wait for the copyright check).",
        f"**Visibility**: {privacy}"
        + (f"; schedule it for {scheduled} (PELLACIA_YOUTUBE_PUBLISH_AT)" if scheduled else "")
        + ". Click **Publish** (or **Schedule**) and copy the video link the dialog shows.",
    ]


TIKTOK_PRIVACY = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only you",
}


def _tiktok_steps(material: PostMaterial, video: str, options: dict[str, str]) -> list[str]:
    level = options.get("privacy_level", "").upper()
    privacy = (
        f"**{TIKTOK_PRIVACY[level]}** ({level}, from PELLACIA_TIKTOK_PRIVACY_LEVEL)"
        if level in TIKTOK_PRIVACY
        else "your choice (PELLACIA_TIKTOK_PRIVACY_LEVEL is not set; TikTok never lets it be assumed)"
    )
    aigc = options.get("is_aigc", "true").lower() != "false"
    return [
        "Open https://www.tiktok.com/tiktokstudio/upload signed in to the account (or in the TikTok app: "
        f"**+** → **Upload**) and choose `{video}`.",
        "Paste the CAPTION block into **Description**: it already starts with the title and ends with the "
        "hashtags; TikTok has no separate title field.",
        f"**Who can watch this video**: {privacy}.",
        "**Show more**: "
        + (
            "turn **AI-generated content** on (the factory declares it: PELLACIA_TIKTOK_IS_AIGC is not false)"
            if aigc
            else "leave **AI-generated content** off (PELLACIA_TIKTOK_IS_AIGC=false)"
        )
        + "; leave **Disclose post content** (branded or promotional content) off, as the factory does.",
        "Leave comments, Duet and Stitch as the account allows them, then click **Post**. Open the video on "
        "the profile, **Share** → **Copy link**.",
    ]


def _instagram_steps(material: PostMaterial, video: str, options: dict[str, str]) -> list[str]:
    return [
        "Sign in to the professional account the factory posts to (PELLACIA_INSTAGRAM_USER_ID). In the app: "
        "**+** → **Reel**; on https://www.instagram.com: **Create** → **Post** (a video goes out as a Reel). "
        f"Choose `{video}` and keep the original crop (9:16); add no music or edits.",
        "Paste the CAPTION block into **Write a caption**: it already starts with the title and carries the "
        "hashtags.",
        "Leave **Also share to Facebook** off (Facebook gets its own post) and **Share**.",
        "Open the Reel, **⋯** → **Copy link**.",
    ]


def _facebook_steps(material: PostMaterial, video: str, options: dict[str, str]) -> list[str]:
    return [
        "Open the Page the factory posts to (PELLACIA_FACEBOOK_PAGE_ID) in Meta Business Suite "
        "(https://business.facebook.com) or switch to the Page on https://www.facebook.com.",
        f"**Create reel** (a vertical video up to 90 s) and choose `{video}`; a longer or landscape video: "
        "**Create post** → **Photo/video**.",
        "Paste the CAPTION block into the **Description**; where a **Title** field is offered (Page videos), "
        "paste the TITLE block there.",
        "Audience **Public**; **Share now** (not a scheduled or boosted post).",
        "Open the post, **⋯** → **Copy link**.",
    ]


def _x_steps(material: PostMaterial, video: str, options: dict[str, str]) -> list[str]:
    return [
        "Open https://x.com/compose/post signed in to the account.",
        "Paste the CAPTION block as the post's text: it already starts with the title, carries the hashtags "
        "and fits X's 280 characters.",
        f"Click the media icon and attach `{video}`; wait until the upload finishes.",
        "Leave **Everyone can reply** as it is and no content warning; click **Post**.",
        "Open the post, **Share** → **Copy link**.",
    ]


def _linkedin_steps(material: PostMaterial, video: str, options: dict[str, str]) -> list[str]:
    return [
        "Sign in to https://www.linkedin.com as the author the factory posts for (PELLACIA_LINKEDIN_AUTHOR): "
        "for an organisation, open its Page in admin view first.",
        f"**Start a post** → **Add media** (video) → choose `{video}`; where a video **Title** is asked, "
        "paste the TITLE block.",
        "Paste the CAPTION block as the post text; visibility **Anyone**.",
        "Click **Post**, then on the post **⋯** → **Copy link to post**.",
    ]


PLATFORM_NAMES = {
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "facebook": "the Facebook Page",
    "x": "X",
    "linkedin": "LinkedIn",
}
PLATFORM_URLS = {
    "youtube": "https://www.youtube.com/shorts/VIDEO_ID",
    "tiktok": "https://www.tiktok.com/@account/video/VIDEO_ID",
    "instagram": "https://www.instagram.com/reel/CODE/",
    "facebook": "https://www.facebook.com/reel/VIDEO_ID",
    "x": "https://x.com/account/status/POST_ID",
    "linkedin": "https://www.linkedin.com/feed/update/urn:li:share:ID/",
}
PLATFORM_STEPS = {
    "youtube": _youtube_steps,
    "tiktok": _tiktok_steps,
    "instagram": _instagram_steps,
    "facebook": _facebook_steps,
    "x": _x_steps,
    "linkedin": _linkedin_steps,
}


# --- a quarantined file ----------------------------------------------------------------------------------


def _export_file(entry: ManualQueueItem, to_dir: Path) -> None:
    source = Path(str(entry.source_path))
    folder = source.parent
    companions = (
        sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith(f"{source.stem}."))
        if folder.is_dir()
        else []
    )
    for path in companions:
        place(path, to_dir / path.name)
    error_file = folder / f"{source.stem}.error.txt"
    reason = error_file.read_text(encoding="utf-8").strip() if error_file.is_file() else entry.detail
    drop = folder.parent if folder.name == "quarantine" else folder
    here = [f"`{path.name}`" for path in companions] or ["nothing: the file is no longer in quarantine"]
    lines = [
        f"# Manual entry {entry.id}: a quarantined file",
        "",
        f"`{source.name}` was refused and moved to `{folder}`.",
        "",
        f"Why: {reason}",
        "",
        f"In this folder: {', '.join(here)}.",
        "",
        *_numbered(
            [
                "Fix what the reason names: re-export a damaged or incomplete video; write the sidecar "
                f"`{source.stem}.json` as JSON with `title`, `description`, `hashtags` (a list or "
                '"#a #b"), `platforms` (a list of youtube, tiktok, instagram, facebook, x, linkedin, or '
                '"all"), `priority` (breaking, normal or backlog) and optionally `scheduled_at` '
                '("2026-12-27T14:00") and `timezone`; a name must be a safe slug (lower-case letters, '
                "digits and `-`), and the video a regular file, not a link.",
                "Copy the fixed `NAME.mp4` and `NAME.json` (a new name if in doubt) into the phase-05 "
                f"folder `{drop}`, video and sidecar together; the drop sensor takes them within seconds.",
                f"Close this entry:\n\n   ```\n   pellacia-dist manual resolve --id {entry.id}\n   ```",
            ]
        ),
    ]
    (to_dir / INSTRUCTIONS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
