"""Jobs: named selections of assets that sensors, schedules and the CLI launch."""

import dagster as dg

from pellacia_assets.assets.posts import post_asset_name
from resources.platforms import PLATFORMS

PRODUCTION_ASSETS = ["story", "script", "voiceover", "captions", "video"]

production_job = dg.define_asset_job(
    name="production",
    selection=dg.AssetSelection.assets(*PRODUCTION_ASSETS),
    tags={"pellacia/work": "render"},
    description="A story partition from source record to finished, checked shorts.",
)

PUBLISHING_ASSETS = [post_asset_name(platform) for platform in PLATFORMS]

publishing_job = dg.define_asset_job(
    name="publishing",
    selection=dg.AssetSelection.assets(*PUBLISHING_ASSETS),
    description="A produced story partition published to every platform, each in its own pool.",
)

DELIVERY_ASSETS = ["story", "script", "video"]

delivery_job = dg.define_asset_job(
    name="delivery",
    selection=dg.AssetSelection.assets(*DELIVERY_ASSETS),
    description=(
        "A delivered video (phase-05 drop, `schedule`): its story and copy, the file checked against its "
        "platforms and normalised where one needs it (never rendered), then its posts queued."
    ),
)
