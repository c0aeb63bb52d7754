"""Search attribute filters typed by a person: JSON, or a short ``key op value`` form,
checked against the API's shapes (ComparisonFilter / CompoundFilter) before sending."""

from __future__ import annotations

import json
import math
import re
from typing import Any

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
COMPOUNDS = ("and", "or")
_SHORT = {"=": "eq", "==": "eq", "!=": "ne", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_SHORT_RE = re.compile(r"^\s*([^\s=!<>]+)\s*(==|=|!=|>=|<=|>|<)\s*(.+?)\s*$")
MAX_DEPTH = 8


def _scalar(value: Any) -> bool:
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, str | int | float | bool)


def check_filter(value: Any, where: str = "filters", depth: int = 0) -> str | None:
    """None when ``value`` is a filter the API accepts; else a sentence naming the spot."""
    if depth > MAX_DEPTH:
        return f"{where}: filters nest at most {MAX_DEPTH} deep here."
    if not isinstance(value, dict):
        return f"{where}: expected an object with a type."
    kind = value.get("type")
    if kind in COMPOUNDS:
        extra = set(value) - {"type", "filters"}
        if extra:
            return f"{where}: unexpected {', '.join(sorted(extra))} in an {kind!r} filter."
        items = value.get("filters")
        if not isinstance(items, list) or not items:
            return f"{where}.filters: expected a non-empty list of filters."
        for i, item in enumerate(items):
            problem = check_filter(item, f"{where}.filters[{i}]", depth + 1)
            if problem:
                return problem
        return None
    if kind not in COMPARISONS:
        allowed = ", ".join(COMPARISONS + COMPOUNDS)
        return f"{where}.type: expected one of {allowed}; got {kind!r}."
    extra = set(value) - {"type", "key", "value"}
    if extra:
        return f"{where}: unexpected {', '.join(sorted(extra))} in a comparison."
    key = value.get("key")
    if not isinstance(key, str) or not key:
        return f"{where}.key: expected the attribute's name."
    if "value" not in value:
        return f"{where}.value: missing."
    operand = value["value"]
    if kind in ("in", "nin"):
        if not isinstance(operand, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) and _scalar(v)
            for v in operand
        ):
            return f"{where}.value: {kind!r} takes a list of strings or numbers."
        return None
    if isinstance(operand, list):
        return f"{where}.value: a list only goes with 'in' or 'nin'."
    if not _scalar(operand):
        return f"{where}.value: expected a string, number or boolean."
    return None


def _short_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    try:
        number = json.loads(text)
    except ValueError:
        return text
    if isinstance(number, int | float) and not isinstance(number, bool) and _scalar(number):
        return number
    return text


def parse_filter(text: str) -> dict[str, Any] | None:
    """The filter ``text`` describes, or None for empty text. Raises ValueError with a
    sentence for anything else. Accepts JSON (``{"type": "eq", "key": …}``) or the short
    form ``key=value``, ``key>=3``, joined by `` and `` (all must hold)."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"Not valid JSON: {exc.msg} (column {exc.colno}).") from None
    else:
        parts = [p for p in re.split(r"\s+and\s+", text) if p.strip()]
        comparisons = []
        for part in parts:
            match = _SHORT_RE.match(part)
            if match is None:
                raise ValueError(
                    f"Could not read {part!r}: write key=value, key>=3 … joined by 'and', "
                    "or a JSON filter."
                )
            key, op, raw = match.groups()
            comparisons.append({"type": _SHORT[op], "key": key, "value": _short_value(raw)})
        value = comparisons[0] if len(comparisons) == 1 else {"type": "and", "filters": comparisons}
    problem = check_filter(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, dict)
    return value
