"""Whole pages dumped to text by a scraper (``w3m -dump`` and the like): what the intake keeps.

A dump is plain text of at least ``page_dump_lines`` lines: the page's menus, the article with
its lines wrapped at the dumper's width, then share buttons, teasers of other stories and
comments. The caller sees the result in ``article_text``: the article's paragraphs only.
"""

from __future__ import annotations

import html
import textwrap

import pytest

from newsbrief.service.domain import Article
from newsbrief.service.intake import scraped
from newsbrief.service.intake.main_text import main_text
from newsbrief.service.intake.scraped import WordTable
from newsbrief.service.settings import IntakeSettings

MENU = [
    "Home",
    "World",
    "Business",
    "Politics",
    "Technology",
    "Science",
    "Health",
    "Sport",
    "Weather",
    "Opinion",
]
SHARE = ["Share this article", "Facebook", "Twitter", "Email", "Print"]
HEADLINE = "Council approves new bridge over the river after years of delay"
STORY = [
    "The city council on Tuesday approved the construction of a new bridge over the river, "
    "ending a debate that has lasted for more than ten years and that divided the residents "
    "of the two districts which the bridge is going to connect when it is finished in 2027.",
    "The mayor said that the bridge would cut the time that people spend in traffic every day "
    "and that it would be paid for by the regional government, which has agreed to cover most "
    "of the cost of the project, as well as by a small toll on the heaviest trucks.",
    "Opponents of the plan have argued for years that the money should have been spent on the "
    "city's buses and trains instead, and some of them said on Tuesday that they would take the "
    "council's decision to court before the work on the bridge can begin next spring.",
    "Engineers expect that the work will take about three years, and the council has asked the "
    "builders to keep at least one lane of the old road open to traffic for all of that time, so "
    "that the shops and the school near the river are not cut off from the rest of the city.",
    "The council will hold a public meeting next month at which the final design of the bridge "
    "will be shown to the residents, who will have a chance to ask questions about the noise, "
    "the traffic and the trees that will have to be cut down along the bank of the river.",
]
TEASERS = [
    "Storm closes schools across the region",
    "Schools in the whole region were closed on Monday as a storm brought heavy rain and wind.",
    "Hospital opens a new children's ward",
    "The city hospital has opened a new ward for children after two years of building work.",
    "Local team wins the cup final in extra time",
    "The local football team won the cup on Saturday with a goal in the last minute of the match.",
]


def _wrapped(paragraphs: list[str], width: int = 78) -> list[str]:
    """Paragraphs as a dumper writes them: wrapped at ``width`` columns, a blank line after
    each."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [*textwrap.wrap(paragraph, width), ""]
    return lines


def _article_text(lines: list[str]) -> str:
    text = "\n".join(lines)
    assert text.count("\n") + 1 >= IntakeSettings().page_dump_lines  # a page dump
    return main_text(Article(text=text), IntakeSettings()).article_text


def test_wrapped_lines_of_a_dump_come_back_as_whole_paragraphs() -> None:
    # each wrapped line is shorter than what reads as prose on its own: joined, they do
    text = _article_text([*MENU, "", HEADLINE, "", *_wrapped(STORY), *SHARE])
    assert text.split("\n\n") == STORY


def test_teasers_after_the_story_are_not_part_of_it() -> None:
    # no "Related" heading: the teasers are cut off by the share buttons between them and the
    # story (the story is the page's densest run of prose)
    text = _article_text(
        [*MENU, "", HEADLINE, "", *_wrapped(STORY), *SHARE, "", *TEASERS, "", *MENU]
    )
    assert text.split("\n\n") == STORY


def test_a_list_of_stories_under_a_heading_before_the_story_is_not_part_of_it() -> None:
    teasers = [
        "Most read",
        "",
        *_wrapped([TEASERS[1] + " " + TEASERS[3] + " " + TEASERS[5]]),
        *MENU[:3],
    ]
    text = _article_text([*MENU, "", *teasers, "", HEADLINE, "", *_wrapped(STORY), *SHARE])
    assert text.split("\n\n") == STORY


def test_a_menu_between_prose_paragraphs_is_not_kept() -> None:
    # short lines between paragraphs of prose (jusText keeps them as prose) go three or more
    # at a time; the story goes on after them
    text = _article_text(
        [*MENU, "", HEADLINE, "", *_wrapped(STORY[:3]), *MENU[:3], "", *_wrapped(STORY[3:])]
    )
    assert not any(item in text.split("\n\n") for item in MENU)
    assert all(paragraph in text for paragraph in STORY)


def test_comments_after_the_story_end_it() -> None:
    comments = [
        "Comments",
        "",
        "jsmith wrote:",
        *_wrapped(
            [
                "I have been waiting for this bridge for most of my life and I am very glad that "
                "the council has finally made up its mind, even if it took them far too long to "
                "do it and even if the toll on the trucks will make the shops more expensive."
            ]
        ),
    ]
    text = _article_text([*MENU, "", HEADLINE, "", *_wrapped(STORY), *comments])
    assert text.split("\n\n") == STORY


def test_a_signed_last_paragraph_stays() -> None:
    signed = [*STORY[:-1], STORY[-1] + " (jd)"]
    text = _article_text([*MENU, "", HEADLINE, "", *_wrapped(signed), *SHARE, "", *TEASERS])
    assert text.split("\n\n") == signed


def test_the_stop_word_table_answers_as_a_set_of_the_same_words() -> None:
    import justext

    words = {w.lower() for lang in justext.get_stoplists() for w in justext.get_stoplist(lang)}
    table = scraped._stopwords()
    assert all(w in table for w in words)
    others = {w + suffix for w in words for suffix in ("x", "s", "\n")} | {"", "\n", "a\nb"}
    assert not any(w in table for w in others - words)
    assert 123 not in WordTable(["123"])  # words only
    with pytest.raises(ValueError, match="line break"):
        WordTable(["two\nlines"])


def test_the_paragraphs_are_classed_as_jusText_classes_them_with_every_stop_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import justext
    from justext import core

    dump = [*MENU, "", HEADLINE, "", *_wrapped(STORY), *SHARE, "", *TEASERS]
    seen: list[list[tuple[str, str]]] = []
    revise = core.revise_paragraph_classification

    def spy(paragraphs: list[core.Paragraph], *args: object) -> None:
        revise(paragraphs, *args)
        seen.append([(p.text, p.class_type) for p in paragraphs])

    monkeypatch.setattr(core, "revise_paragraph_classification", spy)
    scraped.prose_paragraphs("\n".join(dump))
    every = frozenset(w for lang in justext.get_stoplists() for w in justext.get_stoplist(lang))
    markup = "".join(f"<p>{html.escape(line)}</p>" for line in scraped._reflow("\n".join(dump)))
    whole = core.justext(f"<html><body>{markup}</body></html>".encode(), every)  # spied too
    assert seen == [[(p.text, p.class_type) for p in whole]] * 2
    assert {"good", "bad"} <= {c for _, c in seen[0]}
