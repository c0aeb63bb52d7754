"""Connection settings, read the way the official SDK reads them, checked before any request."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from .errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 30.0  # seconds to wait for the server's answer (read)
DEFAULT_CONNECT_TIMEOUT = 10.0
_BEARER = re.compile(r"(?i)\bBearer\s+([^\s\"',;]+)")
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")


def mask_key(key: str | None) -> str:
    """``sk-proj-abc…wxyz`` → ``sk-…wxyz``; never more than the last four characters."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "…" + key[-2:] if len(key) > 4 else "…"
    prefix = "sk-" if key.startswith("sk-") else ""
    return f"{prefix}…{key[-4:]}"


def scrub_key(text: str, key: str | None = None) -> str:
    """``text`` with the exact ``key``, any ``Bearer …`` token and anything shaped like an
    OpenAI key replaced by its masked form (``sk-…abcd``)."""
    if key and key.strip():
        text = text.replace(key, mask_key(key))
        if key.strip() != key:
            text = text.replace(key.strip(), mask_key(key.strip()))
    text = _BEARER.sub(lambda m: "Bearer " + _masked_token(m.group(1)), text)
    return _KEY_LIKE.sub(lambda m: mask_key(m.group(0)), text)


def _masked_token(token: str) -> str:
    return token if "…" in token else mask_key(token)


def _header_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent in an HTTP header, or None."""
    for position, char in enumerate(value, start=1):
        if char in "\r\n":
            return f"a line break at character {position}"
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"a control character at character {position}"
        if ord(char) > 0x7E:
            return f"a non-ASCII character at character {position}"
    return None


def _url_problem(base_url: str) -> str | None:
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "it is not a valid URL (for example https://api.openai.com/v1)"
    if not url.scheme:
        return "it must start with http:// or https:// (for example https://api.openai.com/v1)"
    if url.scheme not in ("http", "https"):
        return f"its protocol is '{url.scheme[:20]}', and vstui speaks only http:// or https://"
    if not url.host:
        return "it names no host"
    try:
        port = url.port
    except (httpx.InvalidURL, ValueError):
        return "its port is not a number"
    if port is not None and not 1 <= port <= 65535:
        return f"its port {port} is out of range (1-65535)"
    return None


@dataclass(frozen=True)
class ClientSettings:
    """Everything the service needs to reach an account. The key never shows in repr.

    Building one checks what no retry could fix (a base URL that is not an http(s) URL, a
    key or header that cannot be sent) and raises :class:`ConfigurationError` with one
    sentence saying what to change.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    organization: str | None = None
    project: str | None = None
    timeout: float = DEFAULT_TIMEOUT  # read/write; uploads get more in proportion to size
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_retries: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    rate_limit_budget: float = 60.0  # seconds a request may wait out 429s before failing

    def __post_init__(self) -> None:
        problem = _url_problem(self.base_url)
        if problem is not None:
            shown = scrub_key(self.base_url[:200], self.api_key)
            raise ConfigurationError(f"The base URL {shown!r} cannot be used: {problem}.")
        for label, value in (
            ("API key", self.api_key),
            ("organization ID", self.organization),
            ("project ID", self.project),
        ):
            bad = _header_problem(value) if value else None
            if bad is not None:
                raise ConfigurationError(
                    f"The {label} cannot be sent in an HTTP header: it contains {bad}; "
                    "copy it again without stray characters."
                )
        for label, number in (
            ("timeout", self.timeout),
            ("connect timeout", self.connect_timeout),
        ):
            if not (math.isfinite(number) and number > 0):
                raise ConfigurationError(
                    f"The {label} must be a positive number of seconds, not {number!r}."
                )
        if self.max_retries < 0:
            raise ConfigurationError(f"max_retries must be 0 or more, not {self.max_retries}.")

    def __repr__(self) -> str:
        return (
            f"ClientSettings(base_url={self.base_url!r}, api_key={mask_key(self.api_key)!r}, "
            f"organization={self.organization!r}, project={self.project!r})"
        )

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)

    def scrub(self, text: str) -> str:
        """``text`` with this key (and any bearer token) masked."""
        return scrub_key(text, self.api_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> ClientSettings:
        """``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``."""
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "api_key": env.get("OPENAI_API_KEY") or None,
            "base_url": env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
            "organization": env.get("OPENAI_ORG_ID") or None,
            "project": env.get("OPENAI_PROJECT_ID") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
