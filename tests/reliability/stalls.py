"""Functions that a test runs in a pipeline worker process (module-level, so that they are
pickled by name; this module imports nothing heavy, since each worker imports it)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path


def pid() -> int:
    return os.getpid()


def sleep(seconds: float) -> None:
    """Blocks in a C call that lets go of the interpreter lock."""
    time.sleep(seconds)


def spin() -> None:
    """Blocks in native code that holds the interpreter lock, for longer than any test (an
    exponential regular expression: about 1.6**60 steps)."""
    re.fullmatch(r"(?:a|aa)*c", "a" * 60)


def touch(path: str) -> None:
    Path(path).touch()
