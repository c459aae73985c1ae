"""The manual queue: what automation could not post, a zip of everything needed to post it by hand (the
folder `pellacia-dist manual export` writes), and resolving it with the post's URL (`manual resolve`)."""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from sqlalchemy import func, select
from starlette.background import BackgroundTask

from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import DEFAULT_LIMIT, CurrentSettings, Factory, IdPath, Limit, Offset, Store
from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import ErrorResponse, ManualEntry, Page, ResolveRequest
from pellacia_assets.manual_export import export_entry
from pellacia_assets.manual_queue import resolve_manual
from resources.alerts.channels import Alerter
from resources.alerts.config import AlertConfigError, alerter_from_env
from resources.database.engine import transaction
from resources.database.manual import ManualError, checked_url, post_id_from_url
from resources.database.models import ManualQueueItem, as_utc

log = logging.getLogger("pellacia.api")
router = APIRouter(prefix="/manual", tags=["manual"])
Viewer = Annotated[Principal, Depends(require_role("viewer"))]
Editor = Annotated[Principal, Depends(require_role("editor"))]
STORED = (".mp4", ".mov", ".webm", ".png", ".jpg", ".jpeg", ".zip")  # compressed already
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "no such manual entry"}
}


def manual_of(entry: ManualQueueItem) -> ManualEntry:
    return ManualEntry(
        id=entry.id,
        reason=entry.reason,
        status=entry.status,
        story_key=entry.story_key,
        part=entry.part,
        platform=entry.platform,
        account=entry.account,
        detail=entry.detail,
        queue_id=entry.queue_id,
        ledger_id=entry.ledger_id,
        run_id=entry.run_id,
        source_path=entry.source_path,
        export_path=entry.export_path,
        resolved_url=entry.resolved_url,
        created_at=as_utc(entry.created_at),
        resolved_at=as_utc(entry.resolved_at),
    )


def _missing(entry_id: int) -> ApiError:
    return ApiError(404, "not_found", f"no manual entry with id {entry_id}; GET /manual lists them")


@router.get("", response_model=Page[ManualEntry], summary="Manual-queue entries, oldest first")
def list_manual(
    _caller: Viewer,
    factory: Factory,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[ManualEntry]:
    query = select(ManualQueueItem)
    if status != "all":
        query = query.where(ManualQueueItem.status == status)
    with transaction(factory) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(ManualQueueItem.id).limit(limit).offset(offset))
        items = [manual_of(row) for row in rows]
    return Page[ManualEntry](items=items, total=total, limit=limit, offset=offset)


def zip_folder(folder: Path, target: Path) -> int:
    """Every regular file under `folder` into the zip `target`, named by its path inside the folder (so
    no member can point outside it); links are left out. The number of files comes back."""
    count = 0
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            name = path.relative_to(folder).as_posix()
            if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
                continue
            method = zipfile.ZIP_STORED if path.suffix.lower() in STORED else zipfile.ZIP_DEFLATED
            archive.write(path, name, compress_type=method)
            count += 1
    return count


@router.get(
    "/{entry_id}/export.zip",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the video, its exact copy (post.txt) and INSTRUCTIONS.md",
        },
        **NOT_FOUND,
        409: {"model": ErrorResponse, "description": "nothing to export yet"},
    },
    summary="Download what is needed to post an entry by hand",
)
def export_zip(
    entry_id: IdPath, _caller: Viewer, factory: Factory, store: Store, settings: CurrentSettings
) -> FileResponse:
    """Writes (or refreshes) the entry's export folder, $PELLACIA_HOME/manual/<id>, as `manual export`
    does, and sends it as one zip."""
    folder = settings.home / "manual" / str(entry_id)
    try:
        with transaction(factory) as session:
            entry = session.get(ManualQueueItem, entry_id)
            if entry is None:
                raise _missing(entry_id)
            export_entry(session, store, entry, folder)
    except ManualError as error:
        raise ApiError(409, "conflict", str(error)) from None
    handle, name = tempfile.mkstemp(prefix=f"pellacia-manual-{entry_id}-", suffix=".zip")
    os.close(handle)
    target = Path(name)
    try:
        zip_folder(folder, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return FileResponse(
        target,
        media_type="application/zip",
        filename=f"manual-{entry_id}.zip",
        background=BackgroundTask(target.unlink, missing_ok=True),
    )


def _alerter() -> Alerter:
    """The configured alert channels; a broken alert setting never stops a resolution (it is logged)."""
    try:
        return alerter_from_env()
    except AlertConfigError as error:
        log.warning("no resolved alert sent: %s", error)
        return Alerter([])


@router.post(
    "/{entry_id}/resolve",
    response_model=ManualEntry,
    responses={
        **NOT_FOUND,
        409: {"model": ErrorResponse, "description": "already resolved, or the ledger disagrees"},
        422: {"model": ErrorResponse, "description": "no URL for a post, or not a post URL of its platform"},
    },
    summary="Record the post made by hand",
)
def resolve(
    entry_id: IdPath, body: ResolveRequest, _caller: Editor, factory: Factory, store: Store
) -> ManualEntry:
    """The post goes into the publish ledger as published (never posted again by the factory), the entry
    and every open entry about the same post are closed, and so is their alert."""
    with transaction(factory) as session:
        entry = session.get(ManualQueueItem, entry_id)
        if entry is None:
            raise _missing(entry_id)
        status, platform, story_key = entry.status, entry.platform, entry.story_key
    if status == "resolved":
        raise ApiError(409, "conflict", f"manual entry {entry_id} is already resolved")
    try:
        if body.url is not None:
            checked_url(body.url)
            if platform is not None:
                post_id_from_url(platform, body.url)
        elif platform is not None and story_key is not None:
            raise ManualError(f"manual entry {entry_id} is a post on {platform}: give the `url` of the post")
    except ValueError as error:  # ManualError, or a URL that urllib cannot even split
        raise ApiError(422, "invalid_request", str(error)) from None
    try:
        return manual_of(resolve_manual(factory, _alerter(), entry_id, body.url, store=store))
    except ManualError as error:
        raise ApiError(409, "conflict", str(error)) from None
