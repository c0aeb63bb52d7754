"""Untrusted text made safe to show: one sanitiser, one secrets registry.

Everything that came from outside (server fields, server error text, file names and
contents, theme and config values echoed back) goes through :func:`clean` (one-line
fields) or :func:`clean_block` (the content pager, search chunks, multi-line messages)
where it becomes output: the table's cells, notifications, the header, ``SafeStatic``
and the headless printers. Nothing here imports a UI library.

- C0 and C1 controls, ESC and DEL become visible escapes (``\\x1b``); bidi overrides,
  embeddings, isolates and marks become ``\\u202e`` and the like, so a name can neither
  drive the terminal nor reorder what is shown around it.
- :func:`clean` turns line breaks into ``⏎`` and a tab into a space; :func:`clean_block`
  keeps newlines and tabs.
- Registered secrets (the API key) and any ``Bearer …`` token are replaced by the masked
  form (``sk-…abcd``). Rich markup is not touched: it is shown literally by the widgets.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from typing import Any, TextIO, cast

from .api.settings import mask_key

NEWLINE_MARK = "⏎"

# Bidi: LRM, RLM, ALM; embeddings and overrides U+202A–U+202E; isolates U+2066–U+2069.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Line and paragraph separators break lines in some terminals: treated as newlines.
_SEPARATORS = "\u2028\u2029"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SEPARATORS}]")
_UNSAFE_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SEPARATORS}]")
_LINE_BREAK = re.compile(f"\r\n|[\n\r\x0b\x0c\x85{_SEPARATORS}]")
_BEARER = re.compile(r"(?i)\b(Bearer)\s+([^\s\"'\\,;]{8,})")

_secrets: tuple[str, ...] = ()  # longest first
_secrets_lock = threading.Lock()


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escape_match(match: re.Match[str]) -> str:
    return _escape(match.group())


def register_secret(secret: str | None) -> None:
    """Never show this string again (the API key). Short strings are ignored."""
    global _secrets
    if secret and len(secret) >= 8:
        with _secrets_lock:
            if secret not in _secrets:
                _secrets = tuple(sorted({*_secrets, secret}, key=len, reverse=True))


def forget_secrets() -> None:
    """For tests: drop every registered secret."""
    global _secrets
    with _secrets_lock:
        _secrets = ()


def _mask_bearer(match: re.Match[str]) -> str:
    token = match.group(2)
    return f"{match.group(1)} {token if '…' in token else mask_key(token)}"


def scrub(text: str) -> str:
    """Replace every registered secret and any ``Bearer`` token by its masked form."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, mask_key(secret))
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(_mask_bearer, text)
    return text


def clean(text: object) -> str:
    """One line of untrusted text, safe to paint or print."""
    value = text if isinstance(text, str) else str(text)
    value = scrub(value)
    if _UNSAFE.search(value) is None:
        return value
    value = _LINE_BREAK.sub(NEWLINE_MARK, value).replace("\t", " ")
    return _UNSAFE.sub(_escape_match, value)


def clean_block(text: object) -> str:
    """Multi-line untrusted text: newlines and tabs stay, everything else as in clean."""
    value = text if isinstance(text, str) else str(text)
    value = scrub(value)
    if _UNSAFE_BLOCK.search(value) is None:
        return value
    value = value.replace("\r\n", "\n")
    return _UNSAFE_BLOCK.sub(_escape_match, value)


def is_clean(text: str) -> bool:
    """True when nothing in ``text`` could drive a terminal or reorder what is shown."""
    return _UNSAFE_BLOCK.search(text) is None


class SafeWriter(io.TextIOBase):
    """A text stream that writes every line cleaned (and the key masked).

    ``print`` writes its text and then its ``end`` separately: a write of exactly a newline
    ends the line; any line break inside a write is text (``⏎``), so a name can never split
    or add a line. Write lines with ``print`` (or the text, then ``"\\n"``).
    """

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text if text in ("\n", "") else clean(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    @property
    def wrapped(self) -> Any:
        return self._stream


def safe_stream(stream: Any) -> TextIO:
    """``stream`` behind a :class:`SafeWriter` (once)."""
    if isinstance(stream, SafeWriter):
        return cast(TextIO, stream)
    return cast(TextIO, SafeWriter(stream))


class SecretFilter(logging.Filter):
    """A logging filter that formats the record and masks every secret in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as it is
            return True
        record.msg = clean_block(message)
        record.args = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


_installed = False


def install_log_scrubber() -> None:
    """Mask secrets in every log record, whichever logger or handler it goes to."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()
    secret_filter = SecretFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        secret_filter.filter(record)
        return record

    logging.setLogRecordFactory(factory)
