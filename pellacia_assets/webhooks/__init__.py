"""Outgoing webhooks: signed deliveries of the factory's events (kept in resources/database/webhooks.py)."""
