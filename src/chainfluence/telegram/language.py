"""Language of a post's text (py3langid), for a channel's language mix.

Short or ambiguous texts (emoji, numbers, a few words) give no answer rather than a guess.
The model (~0.5 s to load) is loaded on first use.
"""

from __future__ import annotations

import functools
import re
from typing import Any

MIN_LETTERS = 20
MIN_CONFIDENCE = 0.7
_URL = re.compile(r"https?://\S+|@\w+|#\w+")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str | None) -> str | None:
    """ISO 639-1 code of `text`, or None when it is too short or the model is unsure."""
    if not text:
        return None
    cleaned = _URL.sub(" ", text)
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None
    language, confidence = _identifier().classify(cleaned)
    if confidence < MIN_CONFIDENCE or language in ("und", "zxx"):
        return None
    return str(language)
