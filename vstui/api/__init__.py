"""The service layer: pydantic models and an httpx client for every endpoint. No UI here."""

from .client import UNSET, ServiceStats, VectorStoresService
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
    VstuiError,
)
from .models import (
    FileBatch,
    FileCounts,
    FileObject,
    ListPage,
    SearchResultsPage,
    VectorStore,
    VectorStoreFile,
)
from .settings import ClientSettings, mask_key

__all__ = [
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientSettings",
    "FileBatch",
    "FileCounts",
    "FileObject",
    "ListPage",
    "MalformedResponseError",
    "NotFoundError",
    "RateLimitError",
    "SearchResultsPage",
    "ServerError",
    "ServiceStats",
    "ValidationError",
    "VectorStore",
    "VectorStoreFile",
    "VectorStoresService",
    "VstuiError",
    "mask_key",
]
