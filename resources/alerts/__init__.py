"""Alerts to a person: Telegram and email, one alert per incident, and a message when it clears."""
