"""Server flavours: how an OpenAI-compatible server's answers differ from OpenAI's.

``openai`` is faithful to the API reference. ``llama-stack`` reproduces what a llama-stack
0.2 server answers (issue 14): ``{"detail": ...}`` errors, 400 for a missing object, no
``file_batches`` endpoint, parsed content as ``{"file_id", "filename", "attributes",
"content"}``, search results with blank ``file_id``/``filename`` (the id in
``attributes.document_id``), ``expires_at`` null, ``usage_bytes`` 0, ``file_counts``
null, a whole-list ``last_id``, a file attached twice listed twice, the store's name as
its id, a name required on create, and no ``x-request-id``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

Flavor = Literal["openai", "llama-stack"]
OPENAI: Final = "openai"
LLAMA_STACK: Final = "llama-stack"
FLAVORS: Final[tuple[Flavor, ...]] = ("openai", "llama-stack")


def check(flavor: str) -> Flavor:
    if flavor == OPENAI:
        return "openai"
    if flavor == LLAMA_STACK:
        return "llama-stack"
    raise ValueError(f"unknown flavor {flavor!r}; choose from {', '.join(FLAVORS)}")


def store_json(out: dict[str, Any], flavor: Flavor) -> dict[str, Any]:
    if flavor == LLAMA_STACK:
        out.update(expires_at=None, usage_bytes=0, file_counts=None)
    return out


def file_json(out: dict[str, Any], flavor: Flavor) -> dict[str, Any]:
    if flavor == LLAMA_STACK:
        out["usage_bytes"] = 0
    return out


def error_body(message: str, param: str | None, flavor: Flavor, openai: dict[str, Any]) -> Any:
    """The body of an error answer: OpenAI's ``{"error": {...}}`` or FastAPI's ``detail``."""
    if flavor != LLAMA_STACK:
        return openai
    if param is not None and message.startswith("Missing required parameter"):
        return {"detail": {"errors": [{"loc": ["body", param], "msg": "Field required"}]}}
    return {"detail": message}
