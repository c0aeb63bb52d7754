"""Themes from TOML files: the shipped ones (``themes/``) and the user's own.

Every colour is parsed before the theme is registered: a bad file is reported and
skipped, so it can never crash a render.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

from .config import MAX_DEPTH, depth

COLOUR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
TOO_DEEP = f"nests tables or arrays more than {MAX_DEPTH} levels deep; no theme does"
TEXT_STYLES = {"bold", "italic", "underline", "reverse", "strike", "dim", "none", "b", "i", "u"}


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour") from None
    return value


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    luminosity_spread: float = Field(default=0.15, ge=0, le=1, allow_inf_nan=False)
    text_alpha: float = Field(default=0.95, ge=0, le=1, allow_inf_nan=False)
    variables: dict[str, str] = {}

    @field_validator(*COLOUR_FIELDS)
    @classmethod
    def _check_colour(cls, value: str | None) -> str | None:
        return None if value is None else _colour(value)

    @field_validator("variables")
    @classmethod
    def _check_variables(cls, values: dict[str, str]) -> dict[str, str]:
        for key, value in values.items():
            if key.endswith("text-style"):
                if not set(value.split()) <= TEXT_STYLES:
                    raise ValueError(f"{key}: {value!r} is not a text style")
            else:
                try:
                    Color.parse(value)
                except ColorParseError:
                    raise ValueError(f"{key}: {value!r} is not a colour") from None
        return values

    def to_theme(self) -> Theme:
        data = self.model_dump(exclude_none=True)
        return Theme(**data)


@dataclass
class ThemeProblem:
    path: Path
    message: str


def load_file(path: Path) -> Theme:
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    if depth(raw) > MAX_DEPTH:
        raise ValueError(TOO_DEEP)
    try:
        return ThemeFile.model_validate(raw).to_theme()
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'theme'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(details) from None


def builtin_dir() -> Path:
    return Path(str(resources.files("vstui.builtin_themes")))


def load_all(extra_dirs: list[Path]) -> tuple[list[Theme], list[ThemeProblem]]:
    """Shipped themes first, then the user's (which may override by name)."""
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    for directory in [builtin_dir(), *extra_dirs]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                themes.append(load_file(path))
            except (ValueError, OSError) as exc:
                problems.append(ThemeProblem(path, str(exc)))
            except Exception as exc:  # whatever else a bad file causes: skipped, said
                problems.append(ThemeProblem(path, f"cannot be used ({type(exc).__name__})"))
    return themes, problems


def unknown_theme(name: str, themes: list[Theme]) -> str | None:
    """Why ``name`` cannot be used (naming every theme there is), or None when it can."""
    available = {t.name for t in themes} | set(BUILTIN_THEMES)
    if name in available:
        return None
    return f"There is no theme {name!r}. Themes: {', '.join(sorted(available))}."
