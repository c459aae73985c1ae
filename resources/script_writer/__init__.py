"""Which script writer (pellacia_assets.scripting) the assets use: `resource`."""
