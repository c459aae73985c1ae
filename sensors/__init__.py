"""Sensors: what reacts to the outside world (story files, phase-05 drops, story sources, approvals, due
posts, failed runs, webhook deliveries)."""

import dagster as dg

from sensors.dispatcher import post_dispatcher
from sensors.phase05 import phase05_breaking, phase05_drops
from sensors.run_failures import run_failures, run_recoveries
from sensors.sources import approved_stories, feed_stories, link_stories, reddit_stories
from sensors.story_inbox import story_inbox
from sensors.webhooks import webhook_deliveries


def defs() -> dg.Definitions:
    return dg.Definitions(
        sensors=[
            story_inbox,
            phase05_drops,
            phase05_breaking,
            post_dispatcher,
            run_failures,
            run_recoveries,
            reddit_stories,
            feed_stories,
            link_stories,
            approved_stories,
            webhook_deliveries,
        ]
    )
