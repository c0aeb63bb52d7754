"""Pydantic models for the Vector Stores and Files API objects.

They are deliberately tolerant: unknown fields are ignored, enum-like fields are
plain strings (a server may send a status this code has never heard of, such as
``cancelling``), and optional fields may be missing or null. OpenAI-compatible
servers differ from the real one (IDs without the ``vs_`` prefix, ``expires_at``
always null, ``usage_bytes`` 0); none of that breaks parsing.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

AttributeValue = str | float | bool | int

# Known values, for display and validation; the models accept any string.
STORE_STATUSES = ("expired", "in_progress", "completed")
FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
BATCH_STATUSES = ("in_progress", "cancelling", "completed", "failed", "cancelled")
TERMINAL_BATCH_STATUSES = frozenset({"completed", "failed", "cancelled"})


class APIModel(BaseModel):
    """Base for every wire object: fields we do not know are kept as sent (unvalidated),
    so the raw view (``y``) shows what the server sent."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    _poll_after_ms: int | None = PrivateAttr(default=None)
    _request_id: str | None = PrivateAttr(default=None)

    @property
    def poll_after_ms(self) -> int | None:
        """The poll interval the server suggested (``openai-poll-after-ms``), if any."""
        return self._poll_after_ms

    @property
    def request_id(self) -> str | None:
        return self._request_id


def _none_to_zero(value: Any) -> Any:
    return 0 if value is None else value


ZeroIfNull = Annotated[int, BeforeValidator(_none_to_zero)]
"""A count or timestamp some servers send as null: read as 0."""


class FileCounts(APIModel):
    in_progress: ZeroIfNull = 0
    completed: ZeroIfNull = 0
    failed: ZeroIfNull = 0
    cancelled: ZeroIfNull = 0
    total: ZeroIfNull = 0


class ExpiresAfter(APIModel):
    anchor: str = "last_active_at"
    days: int


class StaticChunking(APIModel):
    max_chunk_size_tokens: int = 800
    chunk_overlap_tokens: int = 400


class ChunkingStrategy(APIModel):
    type: str = "auto"
    static: StaticChunking | None = None

    def describe(self) -> str:
        if self.type == "static" and self.static is not None:
            return f"static {self.static.max_chunk_size_tokens}/{self.static.chunk_overlap_tokens}"
        return self.type


class VectorStore(APIModel):
    id: str
    object: str = "vector_store"
    created_at: ZeroIfNull = 0
    name: str | None = None
    description: str | None = None
    usage_bytes: ZeroIfNull = 0
    file_counts: FileCounts = Field(default_factory=FileCounts)
    status: str = "completed"
    expires_after: ExpiresAfter | None = None
    expires_at: int | None = None
    last_active_at: int | None = None
    metadata: dict[str, str] | None = None

    _counts_reported: bool = PrivateAttr(default=False)

    @field_validator("file_counts", mode="before")
    @classmethod
    def _null_counts(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="wrap")
    @classmethod
    def _remember_counts(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        store = handler(data)
        counts = data.get("file_counts") if isinstance(data, dict) else None
        store._counts_reported = isinstance(counts, FileCounts) or (
            isinstance(counts, dict) and isinstance(counts.get("total"), int)
        )
        return store

    @property
    def counts_reported(self) -> bool:
        """False when the server sent no ``file_counts.total`` (null counts read as zeros)."""
        return self._counts_reported

    @field_validator("metadata", mode="before")
    @classmethod
    def _stringify_metadata(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    @property
    def display_name(self) -> str:
        return self.name or "(unnamed)"

    @property
    def is_expired(self) -> bool:
        return self.status == "expired"


class LastError(APIModel):
    code: str = "unknown"
    message: str = ""


class VectorStoreFile(APIModel):
    id: str
    object: str = "vector_store.file"
    usage_bytes: ZeroIfNull = 0
    created_at: ZeroIfNull = 0
    vector_store_id: str = ""
    status: str = "in_progress"
    last_error: LastError | None = None
    chunking_strategy: ChunkingStrategy | None = None
    attributes: dict[str, AttributeValue] | None = None


class FileBatch(APIModel):
    id: str
    object: str = "vector_store.files_batch"
    created_at: int = 0
    vector_store_id: str = ""
    status: str = "in_progress"
    file_counts: FileCounts = Field(default_factory=FileCounts)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_BATCH_STATUSES


class FileObject(APIModel):
    """A Files API file."""

    id: str
    object: str = "file"
    bytes: ZeroIfNull = 0
    created_at: ZeroIfNull = 0
    expires_at: int | None = None
    filename: str = ""
    purpose: str = ""
    status: str | None = None
    status_details: str | None = None


class Deleted(APIModel):
    id: str
    object: str = ""
    deleted: bool = True


T = TypeVar("T", bound=APIModel)


class ListPage(APIModel, Generic[T]):
    object: str = "list"
    data: list[T]  # required: a 200 without a list is an error, never an empty page
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class ContentPart(APIModel):
    type: str = "text"
    text: str = ""


class FileContentPage(APIModel):
    """A file's parsed content: ``{"data": [...]}`` as OpenAI answers, or the API
    reference example's ``{"file_id", "filename", "attributes", "content": [...]}`` shape
    (llama-stack); both read into ``data``."""

    object: str = "vector_store.file_content.page"
    data: list[ContentPart] = Field(default_factory=list)
    has_more: bool = False
    next_page: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _content_as_data(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("data") is None:
            content = value.get("content")
            if isinstance(content, list):
                return {**value, "data": content}
        return value

    @property
    def text(self) -> str:
        return "\n".join(part.text for part in self.data if part.text)


class SearchResult(APIModel):
    file_id: str = ""
    filename: str = ""
    score: float = 0.0
    attributes: dict[str, AttributeValue] | None = None
    content: list[ContentPart] = Field(default_factory=list)

    @field_validator("file_id", "filename", mode="before")
    @classmethod
    def _null_as_blank(cls, value: Any) -> Any:
        return "" if value is None else value

    @property
    def file_id_reported(self) -> bool:
        return bool(self.file_id)

    @property
    def best_id(self) -> str:
        """The file id, or the best id the result carries when the server sent none
        (llama-stack puts it in ``attributes.document_id``); "" if there is none."""
        if self.file_id:
            return self.file_id
        attrs = self.attributes or {}
        for key in ("document_id", "file_id", "doc_id", "id"):
            value = attrs.get(key)
            if isinstance(value, str) and value:
                return value
        return ""

    @property
    def source(self) -> str:
        """Who the result came from, for a list cell: the filename, else the best id, with
        a note when the server did not report the file id."""
        if self.filename:
            return self.filename
        if self.file_id:
            return self.file_id
        best = self.best_id
        return f"{best} (no file id)" if best else "(no file id reported)"

    @property
    def describe(self) -> str:
        """One line naming the result's file: ``name (id)``, saying what the server left out."""
        if self.file_id:
            return f"{self.filename or '(no filename)'} ({self.file_id})"
        best = self.best_id
        where = f"document {best}" if best else "an unnamed document"
        name = f"{self.filename} · " if self.filename else ""
        return f"{name}{where} (the server did not report a file id)"


class SearchResultsPage(APIModel):
    object: str = "vector_store.search_results.page"
    search_query: list[str] = Field(default_factory=list)
    data: list[SearchResult] = Field(default_factory=list)
    has_more: bool = False
    next_page: str | None = None

    @field_validator("search_query", mode="before")
    @classmethod
    def _query_as_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return value


class ErrorBody(APIModel):
    message: str = ""
    type: str | None = None
    param: str | None = None
    code: str | None = None

    @field_validator("code", "param", "type", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        return None if value is None else str(value)
