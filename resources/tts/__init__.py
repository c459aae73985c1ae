"""Text-to-speech: interchangeable offline engines behind one resource."""

from resources.tts.base import SpeechEngine, TTSError, Voice
from resources.tts.registry import ENGINES, make_engine
from resources.tts.resource import TTSResource

__all__ = ["ENGINES", "SpeechEngine", "TTSError", "TTSResource", "Voice", "make_engine"]
