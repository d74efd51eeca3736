"""Text normalisation applied to every article before the other stages."""

from __future__ import annotations

import re
import unicodedata

_KEEP_CONTROLS = frozenset("\n\t")
_SPACES = re.compile(r"[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_TRAILING = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_WS_ONLY_LINES = re.compile(r"\n[ \t]+\n")


def _drop_char(ch: str) -> bool:
    if ch in _KEEP_CONTROLS:
        return False
    # Cc: controls, Cf: format (zero-width space/joiners, BOM, soft hyphen, bidi marks),
    # Co/Cs: private use and lone surrogates, Cn: unassigned.
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\r\u2028\u2029"


def normalize_text(text: str) -> str:
    """Return ``text`` in NFC with control/format characters dropped and whitespace tidied.

    Line ends become ``\\n``, Unicode spaces become a plain space, runs of spaces collapse to
    one, trailing spaces of each line go, three or more newlines become two, and the whole
    text is stripped. Tabs and newlines are kept.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\x85", "\n")
    # each distinct character is looked up once (a text has a few hundred), then dropped in C
    drop = {ord(ch): None for ch in set(text) if _drop_char(ch)}
    if drop:
        text = text.translate(drop)
    text = _SPACES.sub(" ", text)
    text = _TRAILING.sub("\n", text)
    text = text.rstrip(" \t")
    text = _WS_ONLY_LINES.sub("\n\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
