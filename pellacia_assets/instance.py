"""The Dagster instance home: `$PELLACIA_HOME/dagster`, configured from the repository's dagster.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from pellacia_assets.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).resolve().parent.parent / "dagster.yaml"
WORKSPACE_FILE = INSTANCE_TEMPLATE.with_name("workspace.yaml")
POSTGRES_STORAGE = {"postgres": {"postgres_url": {"env": "PELLACIA_POSTGRES_URL"}}}


def instance_config(settings: Settings) -> dict[str, object]:
    """The template's settings plus dagster-postgres storage when PostgreSQL is configured."""
    config: dict[str, object] = yaml.safe_load(INSTANCE_TEMPLATE.read_text())
    if settings.postgres_url:
        config["storage"] = POSTGRES_STORAGE
    return config


def prepare_dagster_home(settings: Settings) -> Path:
    """Write DAGSTER_HOME's dagster.yaml and point this process (and its children) at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    rendered = yaml.safe_dump(instance_config(settings), sort_keys=False)
    if not target.exists() or target.read_text() != rendered:
        temporary = target.with_suffix(".yaml.tmp")
        temporary.write_text(rendered)
        temporary.replace(target)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["PELLACIA_HOME"] = str(settings.home)
    return home
