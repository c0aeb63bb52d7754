"""Chunking, attribute filters and relevance scoring for the simulator's search."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

_WORD = re.compile(r"[A-Za-z0-9]+")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "my",
        "your",
        "our",
        "do",
        "does",
        "can",
    ]
)


def chunk_text(text: str, max_tokens: int, overlap: int) -> list[str]:
    """Split text into chunks of ``max_tokens`` words with ``overlap`` words shared.

    A word stands in for a token: close enough for a fake, and it honours the limits.
    """
    words = text.split()
    if not words:
        return []
    step = max(1, max_tokens - overlap)
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + max_tokens]))
        if start + max_tokens >= len(words):
            break
    return chunks


def _stem(word: str) -> str:
    """A light stemmer: 'refunds' and 'refund', 'policies' and 'policy' meet."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + repl
    return word


def terms(text: str) -> Counter[str]:
    return Counter(
        _stem(w) for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in STOP_WORDS
    )


def score(query: Counter[str], chunk: Counter[str]) -> float:
    """Cosine similarity of term counts, in [0, 1]."""
    if not query or not chunk:
        return 0.0
    dot = sum(count * chunk.get(term, 0) for term, count in query.items())
    if not dot:
        return 0.0
    norm = math.sqrt(sum(c * c for c in query.values())) * math.sqrt(
        sum(c * c for c in chunk.values())
    )
    # Lift scores so a good match reads like the real service's 0.6-0.95.
    return min(1.0, round(math.sqrt(dot / norm), 6))


def rewrite(query: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(query) if w.lower() not in STOP_WORDS)


class FilterError(ValueError):
    pass


_COMPARISONS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"}


def matches(filters: Mapping[str, Any] | None, attributes: Mapping[str, Any] | None) -> bool:
    """Evaluate a ComparisonFilter / CompoundFilter against a file's attributes."""
    if filters is None:
        return True
    attributes = attributes or {}
    kind = filters.get("type")
    if kind in ("and", "or"):
        subs = filters.get("filters")
        if not isinstance(subs, list) or not subs:
            raise FilterError("A compound filter needs a non-empty 'filters' array.")
        results = (matches(sub, attributes) for sub in subs)
        return all(results) if kind == "and" else any(results)
    if kind not in _COMPARISONS:
        raise FilterError(f"Unknown filter type {kind!r}.")
    key = filters.get("key")
    if not isinstance(key, str) or "value" not in filters:
        raise FilterError("A comparison filter needs 'key' and 'value'.")
    target = filters["value"]
    if key not in attributes:
        return kind in ("ne", "nin")
    value = attributes[key]
    try:
        if kind == "eq":
            return bool(value == target)
        if kind == "ne":
            return bool(value != target)
        if kind == "in":
            return isinstance(target, list) and value in target
        if kind == "nin":
            return isinstance(target, list) and value not in target
        if isinstance(value, bool) or isinstance(target, bool):
            return False
        if kind == "gt":
            return bool(value > target)
        if kind == "gte":
            return bool(value >= target)
        if kind == "lt":
            return bool(value < target)
        return bool(value <= target)
    except TypeError:
        return False
