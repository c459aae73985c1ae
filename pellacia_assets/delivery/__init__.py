"""Finished videos delivered from outside the factory: a phase-05 drop (`phase05`), `schedule` (`upload`).

A delivered story is not written, voiced or rendered: its script is the delivery's own title, description
and hashtags, and its video is the delivered file, checked against each platform's limits and normalised
only where a platform needs it. Pure code (no Dagster).
"""

DELIVERED_KINDS = ("phase05", "upload")


def is_delivered(source_kind: str) -> bool:
    """Whether a story of this source kind arrives as a finished video rather than as text to produce."""
    return source_kind in DELIVERED_KINDS
