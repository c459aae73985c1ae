"""Where artefacts live on disk: `store` (pure) and its `resource`."""
