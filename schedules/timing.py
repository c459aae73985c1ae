"""What every schedule shares: the run priority of housekeeping (the zone is `policy.timezone_name`)."""

LOW_PRIORITY = "-5"  # below backlog posts (-1): housekeeping never delays a publication
