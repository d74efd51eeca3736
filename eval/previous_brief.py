"""The previous extractive brief (the service's method up to commit 6251522), read from git
history so that ``make eval`` scores the old and the new method side by side on the same intake.

The module is not kept in the tree: :func:`load` takes ``service/.../pipeline/extractive.py`` as
it was at :data:`COMMIT` (``git show``) and runs it as a module of its own, with its relative
imports (``..domain``, ``..settings``, ``..text.words``) resolved against today's package, as
the frozen copy did. Where git or that commit is not at hand (an export without ``.git``, a
shallow clone), :func:`load` returns ``None`` and :func:`unavailable` says why: the evaluation
then leaves the previous method out and says so.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from newsbrief.service.domain import Brief, Budget
from newsbrief.service.settings import BriefSettings

COMMIT = "6251522a50bfb0dabe5007707e3486e3d6568b7c"
"""The last commit of the previous method."""
PATH = "service/src/newsbrief/service/pipeline/extractive.py"
"""Where the previous method lived at :data:`COMMIT`."""
_PACKAGE = "newsbrief.service.pipeline"
"""The package its relative imports are resolved from (where it lived)."""
_MODULE = "eval._previous_extractive"
_REPO = Path(__file__).resolve().parents[1]


class Summarizer(Protocol):
    """What the evaluation uses of the previous ``ExtractiveSummarizer``."""

    def summarize(
        self, paragraphs: Sequence[Sequence[str]], lang: str, budget: Budget, title: str = ""
    ) -> Brief: ...


@functools.cache
def _load() -> tuple[types.ModuleType | None, str]:
    try:
        shown = subprocess.run(
            ["git", "-C", str(_REPO), "show", f"{COMMIT}:{PATH}"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as e:
        return None, f"git could not be run ({e})"
    if shown.returncode != 0:
        why = shown.stderr.strip().splitlines()[-1:] or [f"exit status {shown.returncode}"]
        return None, f"git show {COMMIT[:7]}:{PATH} failed: {why[0]}"
    module = types.ModuleType(_MODULE)
    module.__package__ = _PACKAGE
    module.__file__ = f"{COMMIT[:7]}:{PATH}"
    sys.modules[_MODULE] = module  # dataclasses look their module up while the class is made
    try:
        exec(compile(shown.stdout, module.__file__, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[_MODULE]
        raise
    return module, ""


def load() -> types.ModuleType | None:
    """The previous method's module, or ``None`` where git history is not at hand."""
    return _load()[0]


def unavailable() -> str:
    """Why :func:`load` returns ``None`` (empty when it does not)."""
    return _load()[1]


def summarizer(settings: BriefSettings) -> Summarizer | None:
    """The previous ``ExtractiveSummarizer`` under ``settings``, or ``None`` (see
    :func:`unavailable`)."""
    module = load()
    if module is None:
        return None
    made: Summarizer = module.ExtractiveSummarizer(settings)
    return made


def skipped_line() -> str:
    """The line an evaluation prints in place of the previous method's figures."""
    return (
        f"Previous method (commit {COMMIT[:7]}) skipped: git history is not available "
        f"({unavailable()})."
    )
