"""`GET /health`, without a token, for load balancers and monitors: the app database answers, the Dagster
instance of $PELLACIA_HOME answers, every daemon the instance needs has beaten recently (none running
means nothing is produced or posted), and the home's disk has room. 200 when all hold, 503 (same body)
when any does not, each check saying what it saw.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from pellacia_assets.api.deps import CurrentSettings
from pellacia_assets.api.models import Check, Health
from pellacia_assets.instance import prepare_dagster_home
from pellacia_assets.settings import Settings
from resources.database.engine import open_database

if TYPE_CHECKING:
    from dagster import DagsterInstance

router = APIRouter(tags=["health"])

DAEMON_STALE_S = 120.0  # the daemon beats every 30 s; four missed beats and it is taken for stopped
MIN_FREE_BYTES_VARIABLE = "PELLACIA_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 1024
_instance_lock = threading.Lock()


def _reason(error: BaseException) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}"[:300]


def _database(settings: Settings) -> Check:
    try:
        factory = open_database(settings.database_url)
        with factory() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to answer is the finding
        return Check(ok=False, detail=f"the app database does not answer ({_reason(error)})")
    return Check(ok=True, detail="the app database answers")


def _instance(request: Request, settings: Settings) -> DagsterInstance:
    """The home's Dagster instance, made once per app (making one reads dagster.yaml and opens storage)."""
    with _instance_lock:
        instance: DagsterInstance | None = getattr(request.app.state, "dagster_instance", None)
        if instance is None:
            from dagster import DagsterInstance

            prepare_dagster_home(settings)
            instance = DagsterInstance.from_config(str(settings.dagster_home))
            request.app.state.dagster_instance = instance
        return instance


def _dagster(request: Request, settings: Settings) -> tuple[Check, Check]:
    """(the instance answers, its daemons beat)."""
    try:
        instance = _instance(request, settings)
        heartbeats = instance.get_daemon_heartbeats()
        required = list(instance.get_required_daemon_types())
    except Exception as error:  # an instance that cannot be opened or read is the finding
        failed = Check(ok=False, detail=f"the Dagster instance does not answer ({_reason(error)})")
        return failed, Check(ok=False, detail="unknown: the Dagster instance does not answer")
    now = time.time()
    missing = [name for name in required if name not in heartbeats]
    stale = {
        name: now - heartbeats[name].timestamp
        for name in required
        if name in heartbeats and now - heartbeats[name].timestamp > DAEMON_STALE_S
    }
    reachable = Check(ok=True, detail="the Dagster instance answers")
    if not missing and not stale:
        return reachable, Check(ok=True, detail=f"{len(required)} daemons beat within {DAEMON_STALE_S:g} s")
    problems = [f"{name}: no heartbeat" for name in missing]
    problems += [f"{name}: last beat {age:.0f} s ago" for name, age in sorted(stale.items())]
    return reachable, Check(
        ok=False, detail="; ".join(problems) + " (is `pellacia-dist serve` running on this home?)"
    )


def _min_free_bytes() -> int:
    text_value = os.environ.get(MIN_FREE_BYTES_VARIABLE, "").strip()
    try:
        megabytes = float(text_value) if text_value else DEFAULT_MIN_FREE_MB
    except ValueError:
        megabytes = DEFAULT_MIN_FREE_MB
    return int(max(megabytes, 0) * 1024 * 1024)


def _disk(settings: Settings) -> Check:
    where = settings.home
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError as error:
        return Check(ok=False, detail=f"cannot read the free space of the home ({_reason(error)})")
    needed = _min_free_bytes()
    detail = f"{free / 2**30:.1f} GiB free in the home (at least {needed / 2**30:.1f} GiB wanted)"
    return Check(ok=free >= needed, detail=detail)


@router.get(
    "/health",
    response_model=Health,
    summary="Is the factory healthy?",
    responses={503: {"model": Health, "description": "at least one check failed"}},
)
def health(request: Request, settings: CurrentSettings) -> Any:
    instance, daemons = _dagster(request, settings)
    checks = {
        "database": _database(settings),
        "dagster": instance,
        "daemon": daemons,
        "disk": _disk(settings),
    }
    body = Health(status="ok" if all(c.ok for c in checks.values()) else "degraded", checks=checks)
    if body.status == "ok":
        return body
    return JSONResponse(body.model_dump(mode="json"), status_code=503)
