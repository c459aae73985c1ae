"""Stories: list and filter them, read one with its script and videos, approve, reject, flag as breaking
news, add a video link. The same services as `pellacia-dist story ...` (pellacia_assets/editorial.py); the
decision is recorded under the token's name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pellacia_assets import editorial
from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import DEFAULT_LIMIT, Factory, KeyPath, Limit, Offset, Store
from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import (
    Approval,
    BreakingResult,
    ErrorResponse,
    Line,
    LinkAdmission,
    LinkRequest,
    Page,
    RejectRequest,
    Story,
    StoryDetail,
)
from resources.database.intake import ApprovalError

router = APIRouter(prefix="/stories", tags=["stories"])
Viewer = Annotated[Principal, Depends(require_role("viewer"))]
Editor = Annotated[Principal, Depends(require_role("editor"))]
_APPROVAL_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "no such story"}}
DECISION: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": ErrorResponse, "description": "the story is already decided"},
}


def refused(error: ApprovalError) -> ApiError:
    """An editorial refusal as an answer: unknown story 404, already decided 409, invalid 422."""
    return ApiError(_APPROVAL_STATUS.get(error.code, 409), error.code, str(error))


@router.get("", response_model=Page[Story], summary="List stories, newest first")
def list_stories(
    _caller: Viewer,
    factory: Factory,
    approval: Annotated[Approval | None, Query(description="pending, approved or rejected")] = None,
    status: Annotated[Line | None, Query(description="production status: new, story, produced, ...")] = None,
    source: Annotated[Line | None, Query(description="source kind: reddit, article, link, file, ...")] = None,
    q: Annotated[Line | None, Query(description="words in the title or key")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[Story]:
    views, total = editorial.list_stories(
        factory, approval=approval, status=status, source=source, search=q, limit=limit, offset=offset
    )
    return Page[Story](
        items=[Story.model_validate(view) for view in views], total=total, limit=limit, offset=offset
    )


@router.get(
    "/{key}", response_model=StoryDetail, responses=NOT_FOUND, summary="A story, its script and videos"
)
def get_story(key: KeyPath, _caller: Viewer, factory: Factory, store: Store) -> StoryDetail:
    try:
        view = editorial.get_story(factory, key)
    except ApprovalError as error:
        raise refused(error) from None
    outputs = editorial.story_outputs(store, key)
    return StoryDetail.model_validate(
        {**Story.model_validate(view).model_dump(), "script": outputs["script"], "videos": outputs["videos"]}
    )


@router.post("/{key}/approve", response_model=Story, responses=DECISION, summary="Approve a pending story")
def approve(key: KeyPath, caller: Editor, factory: Factory) -> Story:
    """The approved story is produced by the `approved_stories` sensor of the running factory."""
    try:
        return Story.model_validate(editorial.approve_story(factory, key, caller.name))
    except ApprovalError as error:
        raise refused(error) from None


@router.post("/{key}/reject", response_model=Story, responses=DECISION, summary="Reject a pending story")
def reject(key: KeyPath, body: RejectRequest, caller: Editor, factory: Factory) -> Story:
    try:
        return Story.model_validate(editorial.reject_story(factory, key, body.reason, caller.name))
    except ApprovalError as error:
        raise refused(error) from None


@router.post(
    "/{key}/breaking", response_model=BreakingResult, responses=NOT_FOUND, summary="Flag as breaking news"
)
def breaking(key: KeyPath, caller: Editor, factory: Factory) -> BreakingResult:
    """The story's waiting posts move to the breaking lane (no gap, still the platforms' hard caps), and
    posts queued for it later start there."""
    try:
        view, moved = editorial.flag_breaking(factory, key, caller.name)
    except ApprovalError as error:
        raise refused(error) from None
    return BreakingResult(story=Story.model_validate(view), moved=moved)


@router.post(
    "/links",
    status_code=201,
    response_model=LinkAdmission,
    responses={
        409: {"model": ErrorResponse, "description": "the link is a story already"},
        422: {"model": ErrorResponse, "description": "not a link that can be made into a story"},
    },
    summary="Add a video link as a story",
)
def add_link(body: LinkRequest, caller: Editor, factory: Factory) -> LinkAdmission:
    """The link becomes a story (`link-<platform>-<id>`), pending or approved as the links source's
    approval mode (PELLACIA_LINKS_APPROVAL) says."""
    try:
        admission = editorial.add_link(factory, body.url, caller.name)
    except ValueError as error:  # the links source's LinkError, or a URL that cannot even be split
        raise ApiError(422, "invalid_link", str(error)) from None
    if admission.outcome != "added":
        raise ApiError(
            409, "duplicate", f"this link is already story {admission.same_as!r} ({admission.reason})"
        )
    return LinkAdmission(key=admission.key, outcome="added", approval=admission.approval)
