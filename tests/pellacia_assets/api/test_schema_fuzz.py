"""The OpenAPI schema fuzzed with schemathesis: every operation, with requests generated from the schema
(valid and not), against an app holding a few stories, posts, queued posts and manual entries. No answer
may be a 5xx, and every answer must be documented and match its documented schema and content type."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pellacia_assets.api.app import create_app
from pellacia_assets.settings import Settings
from resources.database.engine import open_database, transaction
from resources.database.manual import open_entry
from resources.database.post_queue import enqueue
from tests.pellacia_assets.api.conftest import TOKENS, add_post, add_story, auth, daemons_beat

# The schema is loaded when the module is imported (schemathesis' lazy `from_fixture` does not run under
# pytest 9), so the app is made then, for a home of its own; `fuzz_home` fills it and sets the environment
# the requests read (tokens, rate) while the module's tests run.
HOME = Path(tempfile.mkdtemp(prefix="pellacia-fuzz-"))
SETTINGS = replace(
    Settings.from_env(), home=HOME, database_url=f"sqlite:///{HOME / 'pellacia.db'}", postgres_url=None
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(SETTINGS))


@pytest.fixture(scope="module", autouse=True)
def fuzz_home() -> Iterator[Path]:
    tokens = HOME / "tokens.yaml"
    tokens.write_text(
        "".join(f"- {{name: {role}, token: {token}, role: {role}}}\n" for role, token in TOKENS.items())
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PELLACIA_API_TOKEN", raising=False)
        for name, value in {
            "PELLACIA_HOME": str(HOME),
            "DAGSTER_HOME": str(SETTINGS.dagster_home),  # /health points it at the home; undone afterwards
            "PELLACIA_DATABASE_URL": SETTINGS.database_url,
            "PELLACIA_API_TOKENS_FILE": str(tokens),
            "PELLACIA_API_RATE": "off",
            "PELLACIA_LINKS_APPROVAL": "required",
        }.items():
            patch.setenv(name, value)
        factory = open_database(SETTINGS.database_url)
        for number in range(1, 4):
            add_story(factory, f"s-{number}", title=f"Story {number}")
            add_post(factory, f"s-{number}", "youtube", post_id=f"yt{number}")
        with transaction(factory) as session:
            enqueue(session, "s-1", 1, [("x", "main"), ("tiktok", "main")])
            open_entry(session, "reauth", "x: token revoked", story_key="s-2", platform="x", account="main")
        daemons_beat(SETTINGS)  # so /health is 200, and any 5xx is a failure
        yield HOME
    shutil.rmtree(HOME, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_error_and_every_answer_as_documented(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(
        headers=auth("admin"),
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_the_schema_lists_the_core_endpoints() -> None:
    paths = set(schema.raw_schema["paths"])
    assert {
        "/health",
        "/metrics",
        "/stories",
        "/stories/{key}",
        "/stories/{key}/approve",
        "/stories/{key}/reject",
        "/stories/{key}/breaking",
        "/stories/links",
        "/stories/{key}/posts",
        "/posts",
        "/posts/{post}",
        "/posts/{post}/analytics",
        "/schedule",
        "/schedule/{queue_id}",
        "/queue",
        "/analytics/summary",
        "/manual",
        "/manual/{entry_id}/export.zip",
        "/manual/{entry_id}/resolve",
    } <= paths
