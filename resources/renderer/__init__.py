"""Render settings for the pure ffmpeg code in pellacia_assets.rendering: `resource`."""
