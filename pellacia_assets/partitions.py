"""Partitions shared by every asset, sensor and job."""

import dagster as dg

story_partitions = dg.DynamicPartitionsDefinition(name="story")
