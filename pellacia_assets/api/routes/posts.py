"""Posts: the publish ledger's rows (one per story part and platform account), with their state and, once
live, the platform's id and URL."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from pellacia_assets.api.auth import Principal, require_role
from pellacia_assets.api.deps import DEFAULT_LIMIT, Factory, IdPath, KeyPath, Limit, Offset
from pellacia_assets.api.errors import ApiError
from pellacia_assets.api.models import ErrorResponse, Page, Post, StoryKey
from resources.database.engine import transaction
from resources.database.models import LedgerEntry, StoryRecord, as_utc
from resources.platforms import Platform

router = APIRouter(tags=["posts"])
Viewer = Annotated[Principal, Depends(require_role("viewer"))]
LedgerState = Literal["planned", "uploading", "processing", "published", "failed", "manual", "unknown"]


def post_of(entry: LedgerEntry) -> Post:
    return Post(
        id=entry.id,
        story_key=entry.story_key,
        part=entry.part,
        platform=entry.platform,
        account=entry.account,
        state=entry.state,
        post_id=entry.post_id,
        url=entry.url,
        attempts=entry.attempts,
        last_error=entry.last_error,
        created_at=as_utc(entry.created_at),
        updated_at=as_utc(entry.updated_at),
        published_at=as_utc(entry.published_at),
    )


def ledger_page(
    factory: sessionmaker[Session], query: Select[tuple[LedgerEntry]], limit: int, offset: int
) -> Page[Post]:
    with transaction(factory) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit).offset(offset))
        return Page[Post](items=[post_of(row) for row in rows], total=total, limit=limit, offset=offset)


def ledger_entry(factory: sessionmaker[Session], post: int) -> LedgerEntry:
    with transaction(factory) as session:
        entry = session.get(LedgerEntry, post)
    if entry is None:
        raise ApiError(404, "not_found", f"no post with id {post}; GET /posts lists them")
    return entry


@router.get("/posts", response_model=Page[Post], summary="List posts, newest first")
def list_posts(
    _caller: Viewer,
    factory: Factory,
    story: Annotated[StoryKey | None, Query(description="a story key")] = None,
    platform: Annotated[Platform | None, Query()] = None,
    state: Annotated[LedgerState | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[Post]:
    query = select(LedgerEntry)
    if story is not None:
        query = query.where(LedgerEntry.story_key == story)
    if platform is not None:
        query = query.where(LedgerEntry.platform == platform)
    if state is not None:
        query = query.where(LedgerEntry.state == state)
    return ledger_page(factory, query, limit, offset)


@router.get(
    "/stories/{key}/posts",
    response_model=Page[Post],
    responses={404: {"model": ErrorResponse, "description": "no such story"}},
    summary="A story's posts",
    tags=["stories"],
)
def story_posts(
    key: KeyPath,
    _caller: Viewer,
    factory: Factory,
    platform: Annotated[Platform | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[Post]:
    with transaction(factory) as session:
        known = session.get(StoryRecord, key) is not None
    if not known:
        raise ApiError(404, "not_found", f"no story {key!r}; GET /stories lists them")
    query = select(LedgerEntry).where(LedgerEntry.story_key == key)
    if platform is not None:
        query = query.where(LedgerEntry.platform == platform)
    return ledger_page(factory, query, limit, offset)


@router.get(
    "/posts/{post}",
    response_model=Post,
    responses={404: {"model": ErrorResponse, "description": "no such post"}},
    summary="One post",
)
def get_post(post: IdPath, _caller: Viewer, factory: Factory) -> Post:
    return post_of(ledger_entry(factory, post))
