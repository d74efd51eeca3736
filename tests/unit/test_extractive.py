from newsbrief.service.domain import Budget
from newsbrief.service.settings import BriefSettings
from newsbrief.service.summarize.extractive import ExtractiveSummarizer, length_units
from newsbrief.service.text.segment import split_paragraphs, split_sentences

EN = """By Jane Doe, Staff Reporter

The city council approved a new flood defence plan on Tuesday after months of debate over its cost.

The plan will raise the river walls by two metres and build three new pumping stations.

Read more: Council elections next year

Council leader Maria Lopez said the flood defence plan would protect 40,000 homes from river floods.

Residents who were flooded in 2019 welcomed the plan but asked how long the work would take.

The council approved the new flood defence plan on Tuesday after months of debate about its cost.

The work is expected to start in the spring and to finish within four years, officials said.
"""

KO = (
    "서울시는 내년부터 대중교통 요금을 인상한다고 발표했다. "
    "버스 요금은 300원, 지하철 요금은 150원 오른다. "
    "서울시는 적자가 누적되어 대중교통 요금 인상이 불가피하다고 설명했다. "
    "시민단체는 요금 인상에 반대하는 성명을 냈다. "
    "서울시는 저소득층을 위한 할인 제도를 함께 마련하겠다고 밝혔다."
)

MS = (
    "Kerajaan mengumumkan bahawa harga minyak akan dikekalkan sehingga hujung tahun ini. "
    "Menteri Kewangan berkata keputusan itu dibuat selepas mesyuarat kabinet semalam. "
    "Langkah tersebut dijangka membantu rakyat yang terjejas akibat kenaikan kos sara hidup. "
    "Pembangkang pula mendakwa harga minyak sepatutnya diturunkan. "
    "Kerajaan akan mengkaji semula harga minyak setiap bulan."
)


def _paragraphs(text: str, lang: str) -> list[list[str]]:
    return [split_sentences(p, lang) for p in split_paragraphs(text)]


def _sentences(text: str, lang: str) -> list[str]:
    return [s for p in _paragraphs(text, lang) for s in p]


def test_length_units() -> None:
    assert length_units("three little words", "en") == 3
    assert length_units("  ", "en") == 0
    assert length_units("서울시는 발표했다", "ko") == 3  # 8 characters / 3, rounded up
    assert length_units("Harga minyak naik", "ms") == 3


def test_english_brief_is_extractive_ordered_and_within_budget() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings())
    budget = Budget(sentences=3, words=60, key_points=2)
    brief = summarizer.summarize(_paragraphs(EN, "en"), "en", budget)
    sentences = _sentences(EN, "en")
    chosen = [s for s in sentences if s in brief.summary]
    assert 1 <= len(chosen) <= 3
    assert " ".join(chosen) == brief.summary  # only article sentences, in article order
    assert length_units(brief.summary, "en") <= 60
    # the lead is in, junk and the near-duplicate of the lead are not
    assert sentences[1] in brief.summary
    assert "By Jane Doe" not in brief.summary
    assert "Read more" not in brief.summary
    assert "about its cost" not in brief.summary
    assert brief.headline and brief.headline in EN
    assert len(brief.headline.split()) <= BriefSettings().headline_max_words


def test_key_points_are_distinct_article_text_not_in_summary() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings())
    brief = summarizer.summarize(_paragraphs(EN, "en"), "en", Budget(2, 60, 3))
    assert 1 <= len(brief.key_points) <= 3
    assert len(set(brief.key_points)) == len(brief.key_points)
    for point in brief.key_points:
        assert point in EN
        assert point not in brief.summary
        assert "Read more" not in point


def test_title_is_the_headline_shortened_at_a_clause() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings(headline_max_words=8))
    title = "Council approves flood plan, ending months of debate over the cost of river walls"
    brief = summarizer.summarize(_paragraphs(EN, "en"), "en", Budget(2, 60, 0), title=title)
    assert brief.headline == "Council approves flood plan"
    assert brief.key_points == ()


def test_korean_brief_uses_the_character_rule() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings())
    budget = Budget(sentences=3, words=25, key_points=2)  # 25 words = 75 Korean characters
    brief = summarizer.summarize(_paragraphs(KO, "ko"), "ko", budget)
    assert brief.summary
    assert length_units(brief.summary, "ko") <= 25
    for s in split_sentences(brief.summary, "ko"):
        assert s in KO
    assert brief.headline in KO
    for point in brief.key_points:
        assert point in KO


def test_malay_brief_consists_of_article_sentences() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings())
    brief = summarizer.summarize(_paragraphs(MS, "ms"), "ms", Budget(2, 40, 2))
    sentences = _sentences(MS, "ms")
    chosen = [s for s in sentences if s in brief.summary]
    assert " ".join(chosen) == brief.summary
    assert len(chosen) <= 2 and length_units(brief.summary, "ms") <= 40
    assert sentences[0] in brief.summary


def test_a_budget_smaller_than_any_sentence_gives_a_prefix() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings())
    brief = summarizer.summarize(_paragraphs(EN, "en"), "en", Budget(3, 6, 0))
    assert brief.summary
    assert brief.summary in EN
    assert length_units(brief.summary, "en") <= 6


def test_empty_article() -> None:
    summarizer = ExtractiveSummarizer(BriefSettings())
    brief = summarizer.summarize([], "en", Budget(3, 100, 3), title="Only a title")
    assert brief.summary == "" and brief.headline == "Only a title" and brief.key_points == ()
