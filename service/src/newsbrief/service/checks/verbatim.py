"""The extractive guarantee, checked rather than assumed: an extractive brief is article text,
word for word (its summary article sentences in article order, its key points and headline text
of the article or its title)."""

from __future__ import annotations

from newsbrief.service.domain import Brief, Faithfulness
from newsbrief.service.text.lines import is_compression_of
from newsbrief.service.text.patterns import ALNUM_RUN, SPACE


def check_extractive(brief: Brief, sentences: list[str], source: str, title: str) -> Faithfulness:
    """The extractive guarantee, checked rather than assumed: the summary is article sentences in
    article order (the last one possibly cut short to fit the budget), every key point is text of
    the article, and the headline is text of the article or its title (else every word of it is
    a word of them). A key point may be a compression of one article sentence (its words are
    words of the sentence, in order)."""
    issues: list[str] = []
    remaining = SPACE.sub(" ", brief.summary).strip()
    for sentence in sentences:
        if not remaining:
            break
        piece = SPACE.sub(" ", sentence).strip()
        if (
            piece
            and remaining.startswith(piece)
            and remaining[len(piece) : len(piece) + 1] in ("", " ")
        ):
            remaining = remaining[len(piece) :].lstrip()
        elif piece.startswith(remaining):
            remaining = ""  # the last sentence, shortened to fit the budget (a prefix of it)
    if remaining:
        issues.append(f"summary text not taken from the article: {remaining[:80]!r}")
    haystack = SPACE.sub(" ", f"{title}\n{source}").casefold()
    for point in brief.key_points:
        if SPACE.sub(" ", point).strip().casefold() in haystack:
            continue
        # a compression of one article sentence: its words in the sentence's order
        if not any(is_compression_of(point, sentence) for sentence in sentences):
            issues.append(f"key point not found in the article: {point[:80]!r}")
    headline = SPACE.sub(" ", brief.headline).strip().casefold()
    if headline not in haystack:  # a cut sentence or title is found whole; else word by word
        words = set(ALNUM_RUN.findall(haystack))
        unknown = [w[:40] for w in ALNUM_RUN.findall(headline) if w not in words]
        if unknown:
            issues.append(f"headline words not in the article: {', '.join(unknown[:5])}")
    return Faithfulness(passed=not issues, issues=tuple(issues))
