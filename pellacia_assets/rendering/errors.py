"""Errors the rendering code raises, so callers can tell bad media from a failed render."""

from __future__ import annotations


class RenderingError(Exception):
    """Base class: anything that stops a short from being rendered."""


class MediaError(RenderingError):
    """An input or output file is missing, unreadable, or not the media it should be."""


class DamagedMediaError(MediaError):
    """A media file that opens but is not whole: truncated, with broken boxes, or not decodable to its end."""


class RenderError(RenderingError):
    """ffmpeg could not build the video (bad settings, or it failed while running)."""
