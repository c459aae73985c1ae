"""The one error the caption step raises for bad input, so callers can report it without a traceback."""


class CaptionError(ValueError):
    """Captions cannot be built from this input (for example a script with no speakable words)."""
