"""Unexpected exceptions: the traceback goes to a crash log, the user gets one sentence.

The log lives in the platform's state directory (``VSTUI_STATE_DIR`` overrides), with the
key and any bearer token masked.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

import platformdirs

from . import __version__
from .text import clean, scrub

APP = "vstui"


def crash_dir() -> Path:
    override = os.environ.get("VSTUI_STATE_DIR")
    base = Path(override) if override else Path(platformdirs.user_state_dir(APP))
    return base / "crashes"


def write_crash_log(error: BaseException, doing: str) -> Path | None:
    """Write the traceback (key masked); None when even that is impossible."""
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    body = (
        f"vstui {__version__} on Python {sys.version.split()[0]} ({sys.platform})\n"
        f"while {doing}\n"
        f"argv: {' '.join(sys.argv[1:])}\n\n{details}"
    )
    try:
        directory = crash_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"crash-{stamp}-{os.getpid()}.log"
        path.write_text(scrub(body), "utf-8")
        path.chmod(0o600)
    except OSError:
        return None
    return path


def crash_sentence(error: BaseException, doing: str) -> str:
    """One sentence naming what was attempted, what happened and where the details are."""
    path = write_crash_log(error, doing)
    where = (
        f"the details are in {path}"
        if path is not None
        else "no crash log could be written (the state directory is not writable)"
    )
    return clean(
        f"vstui stopped unexpectedly while {doing} ({type(error).__name__}); {where}. "
        "Try again, and if it happens again please report it with that file."
    )
