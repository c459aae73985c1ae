"""Partitions shared by every asset, sensor and job."""

import dagster as dg

from resources.platforms import PLATFORMS

story_partitions = dg.DynamicPartitionsDefinition(name="story")

# Analytics: one partition per UTC day and platform. Facebook keeps video insights for two years, so days
# from the start of 2024 can still hold something; today is a partition too (its snapshot is taken today).
ANALYTICS_START = "2024-01-01"
analytics_partitions = dg.MultiPartitionsDefinition(
    {
        "day": dg.DailyPartitionsDefinition(start_date=ANALYTICS_START, end_offset=1),
        "platform": dg.StaticPartitionsDefinition(list(PLATFORMS)),
    }
)
