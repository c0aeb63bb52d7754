"""Typed errors raised by the service layer.

Every error says what failed in one sentence (``str(err)``) and carries the HTTP
status, the API's error type/code/param and the request ID. No error text ever
contains the API key.
"""

from __future__ import annotations


class VstuiError(Exception):
    """Base of every error the service layer raises."""


class APIError(VstuiError):
    """The API answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.method = method
        self.path = path

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.request_id:
            text += f" (request {self.request_id})"
        return text

    @property
    def summary(self) -> str:
        """One line naming the operation, for notifications."""
        where = f"{self.method} {self.path}".strip()
        return f"{where} failed — {self}" if where else str(self)


class BadRequestError(APIError):
    """400: the request was invalid."""


class AuthenticationError(APIError):
    """401: missing or wrong API key."""


class PermissionDeniedError(APIError):
    """403."""


class NotFoundError(APIError):
    """404: the object does not exist (or no longer does)."""


class ConflictError(APIError):
    """409."""


class UnprocessableEntityError(APIError):
    """422."""


class RateLimitError(APIError):
    """429: too many requests, even after retrying."""


class ServerError(APIError):
    """5xx: the server failed, even after retrying."""


class APIConnectionError(APIError):
    """The server could not be reached."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class MalformedResponseError(APIError):
    """The server answered 2xx with a body that is not the documented object."""


class BatchesUnsupportedError(APIError):
    """The server has no ``file_batches`` endpoint (404/405 for a store that exists)."""


class IncompleteListingError(VstuiError):
    """A listing that cannot be trusted to be whole (a repeated cursor or id, a short list).

    ``what`` names the listing (``"store vs_1 file listing"``) when the caller knows it,
    ``reason`` says why it cannot be trusted; ``str()`` is ``"what: reason"``.
    """

    def __init__(self, reason: str, *, what: str = "") -> None:
        super().__init__(f"{what}: {reason}" if what else reason[:1].upper() + reason[1:] + ".")
        self.what = what
        self.reason = reason


class ValidationError(VstuiError, ValueError):
    """Input rejected before it was sent, with the API's own limits."""


class ConfigurationError(VstuiError):
    """Settings that no request could succeed with (a bad URL, a key that cannot be sent).

    Raised when :class:`~vstui.api.settings.ClientSettings` is built, before any request.
    """


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return APIError
