"""Errors the script writers raise, so the asset can report a bad story or a bad model answer plainly."""

from __future__ import annotations


class ScriptError(Exception):
    """Base class: anything that stops a story from becoming a script."""


class ScriptWriterError(ScriptError):
    """A writer could not produce a usable script (empty story, unusable model answer, endpoint down)."""


class PartSplitError(ScriptError):
    """The part budget is too small to hold even the hook and call to action."""


class PlatformCopyError(ScriptError):
    """Per-platform copy could not be made to fit the platform's limits."""
