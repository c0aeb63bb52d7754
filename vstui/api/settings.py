"""Connection settings, read the way the official SDK reads them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def mask_key(key: str | None) -> str:
    """``sk-proj-abc…wxyz`` → ``sk-…wxyz``; never more than the last four characters."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "…" + key[-2:] if len(key) > 4 else "…"
    prefix = "sk-" if key.startswith("sk-") else ""
    return f"{prefix}…{key[-4:]}"


@dataclass(frozen=True)
class ClientSettings:
    """Everything the service needs to reach an account. The key never shows in repr."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    organization: str | None = None
    project: str | None = None
    timeout: float = 30.0
    connect_timeout: float = 5.0
    max_retries: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    rate_limit_budget: float = 60.0  # seconds a request may wait out 429s before failing

    def __repr__(self) -> str:
        return (
            f"ClientSettings(base_url={self.base_url!r}, api_key={mask_key(self.api_key)!r}, "
            f"organization={self.organization!r}, project={self.project!r})"
        )

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)

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
