"""Jobs: named selections of assets that sensors, schedules and the CLI launch."""

import dagster as dg

PRODUCTION_ASSETS = ["story", "script", "voiceover", "captions", "video"]

production_job = dg.define_asset_job(
    name="production",
    selection=dg.AssetSelection.assets(*PRODUCTION_ASSETS),
    description="A story partition from source record to finished, checked shorts.",
)
