"""What every schedule shares: the factory's time zone and the run priority of housekeeping."""

import os

LOW_PRIORITY = "-5"  # below backlog posts (-1): housekeeping never delays a publication


def factory_timezone() -> str:
    """PELLACIA_TIMEZONE (default UTC), the zone schedules fire in and quiet hours are read in."""
    return os.environ.get("PELLACIA_TIMEZONE", "").strip() or "UTC"
