"""The service layer: pydantic models and an httpx client for every endpoint. No UI here."""

from .capabilities import NOT_REPORTED, Capabilities
from .client import UNSET, Attached, InFlight, ServiceStats, VectorStoresService
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchesUnsupportedError,
    ConfigurationError,
    IncompleteListingError,
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
from .settings import ClientSettings, mask_key, scrub_key

__all__ = [
    "NOT_REPORTED",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Attached",
    "AuthenticationError",
    "BadRequestError",
    "BatchesUnsupportedError",
    "Capabilities",
    "ClientSettings",
    "ConfigurationError",
    "FileBatch",
    "FileCounts",
    "FileObject",
    "InFlight",
    "IncompleteListingError",
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
    "scrub_key",
]
