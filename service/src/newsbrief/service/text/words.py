"""Word lists written as text."""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (a word list kept readable in the source)."""
    return frozenset(text.split())
