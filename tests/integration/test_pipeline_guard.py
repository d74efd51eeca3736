"""The faithfulness guard in the pipeline, with a fake neural summariser: an abstractive brief
with an invented fact is replaced by the extractive one (the pipeline's worker processes run)."""

from __future__ import annotations

import asyncio

from newsbrief.service.domain import Article, BriefOptions, BriefResult, Method, ModelInfo
from newsbrief.service.models.protocols import Summary
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import Settings


class FakeSummarizer:
    """A neural summariser that returns a fixed summary for English articles."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    @property
    def name(self) -> str:
        return "fake-abstractive"

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            role="summarizer",
            id="test/fake",
            languages=("en",),
            backend="transformers",
            parameters=(("num_beams", "4"),),
        )

    def supports(self, lang: str) -> bool:
        return lang == "en"

    async def summarize(self, text: str, lang: str, *, deadline: float | None = None) -> Summary:
        self.calls += 1
        return Summary(self.text, input_tokens=100, max_input_tokens=1024)


ARTICLE = (
    "The city council of Springfield approved a new park on Tuesday after a long debate. "
    "It will cost 1,500,000 dollars and take three years to build, officials said. "
    "Mayor Joe Quimby said the park would be a gift to the children of the city. "
    "Around 12,000 residents signed a petition for the park last year. "
    "Construction starts in the spring, when the ground has thawed."
)


def _pipeline_brief(summary: str, method: Method = Method.AUTO) -> tuple[BriefResult, int]:
    fake = FakeSummarizer(summary)

    async def go() -> BriefResult:
        pipeline = Pipeline(Settings(), summarizer=fake)
        await pipeline.start()
        try:
            return await pipeline.brief(
                Article(text=ARTICLE, source_language="en"), BriefOptions(method=method)
            )
        finally:
            pipeline.close()

    return asyncio.run(go()), fake.calls


def test_pipeline_rejects_an_abstractive_brief_with_an_invented_number() -> None:
    result, calls = _pipeline_brief(
        "Springfield approved a park that will cost 2,000,000 dollars. It takes three years."
    )
    assert calls >= 1
    assert result.method == "extractive"
    assert "2,000,000" not in result.brief.summary
    assert result.brief.summary.startswith("The city council of Springfield approved")
    codes = [w.code for w in result.warnings]
    assert "ABSTRACTIVE_REJECTED" in codes
    assert any("2,000,000" in issue for issue in result.faithfulness.issues)
    assert result.faithfulness.passed  # the brief served is the (checked) extractive one
    assert [m.id for m in result.models] == ["extractive", "test/fake"]


def test_pipeline_serves_a_faithful_abstractive_brief() -> None:
    summary = (
        "Springfield approved a park costing 1.5 million dollars. It takes 3 years to build. "
        "About 12,000 residents asked for it."
    )
    result, _ = _pipeline_brief(summary, Method.ABSTRACTIVE)
    assert result.method == "fake-abstractive"
    assert result.brief.summary == summary
    assert result.brief.headline == "Springfield approved a park costing 1.5 million dollars"
    assert list(result.brief.key_points) == [
        "Springfield approved a park costing 1.5 million dollars.",
        "It takes 3 years to build.",
        "About 12,000 residents asked for it.",
    ]
    assert result.faithfulness.passed and not result.faithfulness.issues
    assert dict(result.models[0].parameters) == {"num_beams": "4"}


def test_pipeline_uses_extractive_key_points_when_the_summary_is_short() -> None:
    result, _ = _pipeline_brief("Springfield approved a park.", Method.ABSTRACTIVE)
    assert result.method == "fake-abstractive"
    assert result.brief.summary == "Springfield approved a park."
    assert all(point in ARTICLE for point in result.brief.key_points)


def test_method_extractive_never_calls_the_model() -> None:
    result, calls = _pipeline_brief("Springfield approved a park.", Method.EXTRACTIVE)
    assert result.method == "extractive" and calls == 1  # the warm-up brief only
