"""The config file: profiles, theme, storage price and clean-up concurrency.

``…/vstui/config.toml`` in the platform's user config directory (``--config PATH``
overrides). Validated with pydantic: a bad file is reported with the file, the key and
what is wrong, and the app does not start half-configured.

Example::

    default_profile = "work"
    theme = "vstui-dark"
    storage_price_per_gb_day = 0.10   # USD per GB-day beyond the first free GB
    cleanup_concurrency = 8
    refresh_seconds = 5               # auto-refresh of what is on screen; 0 = off (--refresh)
    timeout = 30                      # seconds to wait for an answer (--timeout)
    connect_timeout = 10              # seconds to wait for a connection

    [profiles.work]
    base_url = "https://api.openai.com/v1"
    organization = "org-123"
    project = "proj_abc"
    read_only = true

    [profiles.local]
    base_url = "http://localhost:8000/v1"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

APP = "vstui"
# A valid config nests three levels (profiles.NAME.key); anything far deeper is rejected
# before validation (a hostile file can otherwise exhaust the recursion limit).
MAX_DEPTH = 8
MAX_TIMEOUT = 3600.0


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API base URL, or None when it can."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "it contains a space or a control character"
    if not url.isascii():
        return "it contains a non-ASCII character (encode it with punycode / %-escapes)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535"
        return f"it cannot be parsed ({str(exc).lower()})"
    if parts.scheme not in ("http", "https"):
        return "it must start with http:// or https://"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0 is not a port"
    return None


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests (stops counting past ``limit``); iterative, never recurses."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


class ConfigError(Exception):
    """The config file cannot be used; the message says where and why."""


class Profile(BaseModel):
    """One account: where it is, which organisation and project, and how careful to be."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, description="API base URL (OPENAI_BASE_URL)")
    organization: str | None = Field(default=None, description="sent as OpenAI-Organization")
    project: str | None = Field(default=None, description="sent as OpenAI-Project")
    read_only: bool = Field(default=False, description="refuse every change to the account")
    theme: str | None = Field(default=None, description="theme for this profile")

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        problem = None if value is None else url_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} is not a usable URL: {problem}")
        return value


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_profile: str = Field(default="default", description="profile used without --profile")
    theme: str | None = Field(default=None, description="theme name (built-in or from themes/)")
    storage_price_per_gb_day: float = Field(
        default=0.10,
        ge=0,
        allow_inf_nan=False,
        description="USD per GB-day beyond the first free GB",
    )
    cleanup_concurrency: int = Field(default=8, ge=1, le=64, description="parallel deletions")
    refresh_seconds: float = Field(
        default=5.0,
        ge=0,
        le=MAX_TIMEOUT,
        allow_inf_nan=False,
        description="seconds between auto-refreshes of what is on screen; 0 turns them off",
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIMEOUT,
        allow_inf_nan=False,
        description="seconds to wait for an answer (default: the service's, 30)",
    )
    connect_timeout: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIMEOUT,
        allow_inf_nan=False,
        description="seconds to wait for a connection (default: the service's)",
    )
    serve_token: str | None = Field(
        default=None, repr=False, description="token `vstui serve` requires in the URL"
    )
    profiles: dict[str, Profile] = Field(default_factory=dict)

    def profile(self, name: str | None) -> tuple[str, Profile]:
        chosen = name or self.default_profile
        if chosen in self.profiles:
            return chosen, self.profiles[chosen]
        if name is not None and name != "default":
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"There is no profile {name!r} in the config (profiles: {known}).")
        return chosen, Profile()


def config_dir() -> Path:
    override = os.environ.get("VSTUI_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP))


def state_path() -> Path:
    override = os.environ.get("VSTUI_STATE_DIR")
    base = Path(override) if override else Path(platformdirs.user_state_dir(APP))
    return base / "state.json"


def default_path() -> Path:
    return config_dir() / "config.toml"


def _describe(error: ValidationError, path: Path) -> str:
    lines = [f"The config file {path} is not valid:"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling)"
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)


def load(path: Path | None = None, *, explicit: bool = False) -> Config:
    """Read and validate the config; a missing default file means the defaults."""
    path = path or default_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"The config file {path} does not exist.")
        return Config()
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The config file {path} cannot be read: {exc}.") from None
    except RecursionError:
        raise ConfigError(_too_deep(path)) from None
    if depth(raw) > MAX_DEPTH:
        raise ConfigError(_too_deep(path))
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    chosen = config.default_profile
    explicit = "default_profile" in config.model_fields_set
    if explicit and chosen != "default" and chosen not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(
            f"The config file {path} is not valid: default_profile = {chosen!r} names no "
            f"profile (profiles: {known}); add [profiles.{chosen}] or fix the name."
        )
    return config


def _too_deep(path: Path) -> str:
    return (
        f"The config file {path} is not valid: it nests tables or arrays more than "
        f"{MAX_DEPTH} levels deep, far deeper than any vstui setting; fix or remove it."
    )
