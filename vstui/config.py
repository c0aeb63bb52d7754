"""The config file: profiles, theme, storage price and clean-up concurrency.

``…/vstui/config.toml`` in the platform's user config directory (``--config PATH``
overrides). Validated with pydantic: a bad file is reported with the file, the key and
what is wrong, and the app does not start half-configured.

Example::

    default_profile = "work"
    theme = "vstui-dark"
    storage_price_per_gb_day = 0.10   # USD per GB-day beyond the first free GB
    cleanup_concurrency = 8

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

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

APP = "vstui"


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
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_profile: str = Field(default="default", description="profile used without --profile")
    theme: str | None = Field(default=None, description="theme name (built-in or from themes/)")
    storage_price_per_gb_day: float = Field(
        default=0.10, ge=0, description="USD per GB-day beyond the first free GB"
    )
    cleanup_concurrency: int = Field(default=8, ge=1, le=64, description="parallel deletions")
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
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
