"""The posting rules: when each platform account may post next, and which queued post goes first."""
