"""API keys: the environment first, then the OS keyring (service ``vstui``, one per profile).

No silent fallback: a machine without a usable keyring backend, or one whose only backend
writes keys to a plain-text file, is told so in plain words.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import keyring
import keyring.errors

from .api.settings import mask_key

SERVICE = "vstui"
NO_KEYRING = (
    "No usable keyring backend is available on this machine, so vstui cannot store keys. "
    "Set OPENAI_API_KEY in the environment instead, or install a keyring backend "
    "(for example gnome-keyring or KWallet on Linux; see `pip show keyring`)."
)
PLAINTEXT = (
    "The only keyring backend here writes keys to a plain-text file ({name}); vstui will not "
    "store keys there. Set OPENAI_API_KEY instead, or install a secure keyring backend."
)


class KeyringUnavailable(Exception):
    """No secure keyring: the message names the alternatives."""


@dataclass
class ResolvedKey:
    key: str | None = field(repr=False)
    source: str  # "environment", "keyring", or "none"
    note: str = ""

    @property
    def masked(self) -> str:
        return mask_key(self.key)


def _backend() -> keyring.backend.KeyringBackend:
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name.lower() or getattr(backend, "priority", 1) <= 0:
        raise KeyringUnavailable(NO_KEYRING)
    if "plaintext" in name.lower() or name.startswith("keyrings.alt.file"):
        raise KeyringUnavailable(PLAINTEXT.format(name=type(backend).__name__))
    return backend


def get(profile: str) -> str | None:
    backend = _backend()
    try:
        return backend.get_password(SERVICE, profile)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"{NO_KEYRING} ({type(exc).__name__})") from None


def store(profile: str, key: str) -> None:
    backend = _backend()
    try:
        backend.set_password(SERVICE, profile, key)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"{NO_KEYRING} ({type(exc).__name__})") from None


def delete(profile: str) -> bool:
    """False when there was no key for the profile."""
    backend = _backend()
    try:
        backend.delete_password(SERVICE, profile)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"{NO_KEYRING} ({type(exc).__name__})") from None
    return True


def resolve(profile: str, env: dict[str, str] | None = None) -> ResolvedKey:
    """``OPENAI_API_KEY`` wins; then the profile's keyring entry."""
    environ = os.environ if env is None else env
    from_env = environ.get("OPENAI_API_KEY")
    if from_env:
        return ResolvedKey(from_env, "environment")
    try:
        stored = get(profile)
    except KeyringUnavailable as exc:
        return ResolvedKey(None, "none", str(exc))
    if stored:
        return ResolvedKey(stored, "keyring")
    return ResolvedKey(None, "none")


def how_to_provide(profile: str) -> str:
    return (
        f"No API key for profile {profile!r}. Either set OPENAI_API_KEY, or store one in the "
        f"keyring with: vstui key set --profile {profile}\n"
        "To look around without a key: vstui --demo"
    )
