"""The API's documented input limits, checked before sending (and by the simulator).

Each checker returns ``None`` when the value is acceptable, or a
``(param, message)`` pair naming what is wrong in the API's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_METADATA_PAIRS = 16
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 512
EXPIRY_DAYS_MIN, EXPIRY_DAYS_MAX = 1, 365
CHUNK_SIZE_MIN, CHUNK_SIZE_MAX = 100, 4096
BATCH_FILES_MIN, BATCH_FILES_MAX = 1, 500
STORE_FILE_IDS_MAX = 500
LIST_LIMIT_MIN, LIST_LIMIT_MAX = 1, 100
SEARCH_RESULTS_MIN, SEARCH_RESULTS_MAX = 1, 50
MAX_FILE_BYTES = 512 * 1024**2  # "Individual files can be up to 512 MB" (createFile)
# File types ``file_search`` accepts (OpenAI's file-search guide), lower-case, no dot.
FILE_SEARCH_EXTENSIONS = frozenset(
    {
        "c", "cpp", "cs", "css", "doc", "docx", "go", "html", "java", "js", "json", "md",
        "pdf", "php", "pptx", "py", "rb", "sh", "tex", "ts", "txt",
    }
)  # fmt: skip

Problem = tuple[str, str]
_INF = float("inf")


def check_pairs(value: Any, param: str, *, scalar_values: bool = False) -> Problem | None:
    """Metadata (string values) or, with ``scalar_values``, attributes (strings, numbers,
    booleans): at most 16 pairs, keys of 1-64 characters, strings of at most 512."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return param, f"Invalid type for '{param}': expected an object."
    if len(value) > MAX_METADATA_PAIRS:
        return (
            param,
            f"Invalid '{param}': too many properties. Expected an object with at most "
            f"{MAX_METADATA_PAIRS} properties, but got {len(value)} instead.",
        )
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            return param, f"Invalid '{param}': keys must be non-empty strings."
        if len(key) > MAX_KEY_LENGTH:
            return (
                f"{param}.{key[:20]}…",
                f"Invalid '{param}': key {key[:20]!r}… is {len(key)} characters long; "
                f"the maximum is {MAX_KEY_LENGTH}.",
            )
        if isinstance(item, str):
            if len(item) > MAX_VALUE_LENGTH:
                return (
                    f"{param}.{key}",
                    f"Invalid '{param}.{key}': string too long. Expected a string with maximum "
                    f"length {MAX_VALUE_LENGTH}, but got a string with length {len(item)} "
                    "instead.",
                )
        elif not scalar_values:
            return f"{param}.{key}", f"Invalid '{param}.{key}': expected a string."
        elif not isinstance(item, bool | int | float) or item != item or item in (_INF, -_INF):
            return (
                f"{param}.{key}",
                f"Invalid '{param}.{key}': expected a string, number or boolean.",
            )
    return None


def check_metadata(metadata: Any, param: str = "metadata") -> Problem | None:
    return check_pairs(metadata, param)


def check_attributes(attributes: Any, param: str = "attributes") -> Problem | None:
    return check_pairs(attributes, param, scalar_values=True)


def check_expires_after(value: Any, param: str = "expires_after") -> Problem | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return param, f"Invalid type for '{param}': expected an object."
    anchor = value.get("anchor")
    if anchor != "last_active_at":
        return (
            f"{param}.anchor",
            f"Invalid value for '{param}.anchor': expected 'last_active_at', got {anchor!r}.",
        )
    days = value.get("days")
    if isinstance(days, bool) or not isinstance(days, int):
        return f"{param}.days", f"Invalid type for '{param}.days': expected an integer."
    if not EXPIRY_DAYS_MIN <= days <= EXPIRY_DAYS_MAX:
        return (
            f"{param}.days",
            f"Invalid '{param}.days': expected a value between {EXPIRY_DAYS_MIN} and "
            f"{EXPIRY_DAYS_MAX}, but got {days} instead.",
        )
    return None


def check_chunking_strategy(value: Any, param: str = "chunking_strategy") -> Problem | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return param, f"Invalid type for '{param}': expected an object."
    kind = value.get("type")
    if kind == "auto":
        return None
    if kind != "static":
        return (
            f"{param}.type",
            f"Invalid value for '{param}.type': expected 'auto' or 'static', got {kind!r}.",
        )
    static = value.get("static")
    if not isinstance(static, Mapping):
        return f"{param}.static", f"Missing required parameter: '{param}.static'."
    size = static.get("max_chunk_size_tokens")
    overlap = static.get("chunk_overlap_tokens")
    for name, number in (("max_chunk_size_tokens", size), ("chunk_overlap_tokens", overlap)):
        if isinstance(number, bool) or not isinstance(number, int):
            return (
                f"{param}.static.{name}",
                f"Invalid type for '{param}.static.{name}': expected an integer.",
            )
    assert isinstance(size, int) and isinstance(overlap, int)
    if not CHUNK_SIZE_MIN <= size <= CHUNK_SIZE_MAX:
        return (
            f"{param}.static.max_chunk_size_tokens",
            f"Invalid '{param}.static.max_chunk_size_tokens': expected a value between "
            f"{CHUNK_SIZE_MIN} and {CHUNK_SIZE_MAX}, but got {size} instead.",
        )
    if overlap < 0 or overlap > size // 2:
        return (
            f"{param}.static.chunk_overlap_tokens",
            f"Invalid '{param}.static.chunk_overlap_tokens': the overlap must be between 0 and "
            f"half of max_chunk_size_tokens ({size // 2}), but got {overlap} instead.",
        )
    return None


def check_batch_size(count: int, param: str = "file_ids") -> Problem | None:
    if not BATCH_FILES_MIN <= count <= BATCH_FILES_MAX:
        return (
            param,
            f"Invalid '{param}': expected between {BATCH_FILES_MIN} and {BATCH_FILES_MAX} "
            f"files, but got {count} instead.",
        )
    return None
