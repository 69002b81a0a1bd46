"""Near-duplicate text signatures for linking syndicated copies of one story.

:func:`text_signature` turns an article body into a MinHash signature (``num_perm`` unsigned 32-bit
hash values over word 3-shingles, via datasketch), the value carried by
``Analysis.text_signature``. :func:`signature_similarity` estimates the Jaccard similarity of the
two shingle sets from two signatures: about 1.0 for a copy, above 0.5 for a lightly edited copy,
near 0 for two different stories about the same kind of attack. Pure, deterministic (fixed seed),
so signatures made by different workers or before a restart compare equal.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from datasketch import MinHash

NUM_PERM = 64
SHINGLE_WORDS = 3
_SEED = 1  # fixed: signatures from different processes must be comparable
_WORD = re.compile(r"\w+", re.UNICODE)


def text_signature(text: str, num_perm: int = NUM_PERM) -> list[int] | None:
    """MinHash signature of ``text`` (lower-cased word 3-shingles), or None when it has too few words
    to say anything (fewer than ``2 * SHINGLE_WORDS``)."""
    words = _WORD.findall(text.lower())
    if len(words) < 2 * SHINGLE_WORDS:
        return None
    mh = MinHash(num_perm=num_perm, seed=_SEED)
    mh.update_batch([" ".join(words[i:i + SHINGLE_WORDS]).encode("utf-8")
                     for i in range(len(words) - SHINGLE_WORDS + 1)])
    return [int(v) for v in mh.hashvalues]


def signature_similarity(a: Sequence[int] | None, b: Sequence[int] | None) -> float:
    """Estimated Jaccard similarity of two signatures; 0.0 when either is missing or they were made
    with a different number of permutations (not comparable)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b) if x == y) / len(a)
