"""Chinese text similarity by character bigrams: pure functions, no dictionary, no model.

The one similarity module of the platform: repeat and duplicate detection (intake), surge alerts
(alerts) and hotspots (analytics) all compare texts with ``cosine_vectors``.

Chinese has no spaces, so words are not at hand; overlapping pairs of characters capture most of
what two complaints about "the same crossing" or "the same noisy bar" share. Punctuation and
spaces are dropped so that formatting does not count as content.

Only the first ``INTAKE_SIMILARITY_MAX_CHARS`` characters (2,000) of a text are compared: the
matter of a complaint is stated at its start, and the work per comparison stays bounded (linear in
that cap: one counter per text, one pass over the smaller counter) however long the text is.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter

from django.conf import settings

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower-case text without spaces and punctuation (full-width forms folded to half-width)."""
    folded = (text or "").translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})
    return _NOISE.sub("", folded.lower())


def ngrams(text: str, n: int = 2) -> Counter[str]:
    """Counts of the character n-grams of the normalised text (a 1-character text is its own gram)."""
    clean = normalise(text)
    if len(clean) < n:
        return Counter([clean]) if clean else Counter()
    if n == 2:  # the pairs joined in C (a month's bulletin reads 2,000 texts)
        return Counter(map(operator.add, clean, clean[1:]))
    return Counter(clean[i : i + n] for i in range(len(clean) - n + 1))


def max_chars() -> int:
    """How many leading characters of a text similarity reads (INTAKE_SIMILARITY_MAX_CHARS)."""
    return settings.INTAKE_SIMILARITY_MAX_CHARS


def vector(text: str, n: int = 2) -> Counter[str]:
    """The n-gram counts of the first ``max_chars()`` characters: what every comparison uses."""
    return ngrams((text or "")[: max_chars()], n)


def norm(counts: Counter[str]) -> float:
    """The Euclidean length of a count vector (kept by callers that compare one vector often)."""
    values = counts.values()
    return math.sqrt(sum(map(operator.mul, values, values)))


def cosine_vectors(
    va: Counter[str], vb: Counter[str], *, norm_a: float | None = None, norm_b: float | None = None
) -> float:
    """Cosine similarity (0..1) of two n-gram count vectors (see ``vector``); the vectors' norms
    may be passed when the caller already has them."""
    if not va or not vb:
        return 0.0
    small, large = (va, vb) if len(va) <= len(vb) else (vb, va)
    dot = sum(count * large[gram] for gram, count in small.items() if gram in large)
    product = (norm(va) if norm_a is None else norm_a) * (norm(vb) if norm_b is None else norm_b)
    return min(1.0, dot / product) if product else 0.0


def cosine(a: str, b: str, n: int = 2) -> float:
    """Cosine similarity (0..1) of the two texts' character n-gram count vectors (leading part)."""
    return cosine_vectors(vector(a, n), vector(b, n))


def jaccard(a: str, b: str, n: int = 2) -> float:
    """Jaccard similarity (0..1) of the two texts' sets of character n-grams."""
    sa, sb = set(vector(a, n)), set(vector(b, n))
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)
