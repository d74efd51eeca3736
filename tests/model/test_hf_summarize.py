"""The transformers summariser on tiny BART and mT5 checkpoints loaded through from_pretrained, and
the pipeline's choice between it and the extractive brief. Random weights: structure only."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsbrief.client import Client, FailedPreconditionError
from newsbrief.service.domain import Article, BriefOptions, Method
from newsbrief.service.errors import CapabilityUnavailable, DeadlineExceeded
from newsbrief.service.models.batching import BatchedSummarizer
from newsbrief.service.models.chunking import InputTooLong, split_to_fit
from newsbrief.service.models.factory import build_summarizer
from newsbrief.service.models.hf.summarize import HFSummarizationEngine
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import ModelSlotSettings, Settings
from tests.conftest import RunningServer, make_settings
from tests.model.summarizers import (  # noqa: F401  (session fixtures)
    BART_MAX_INPUT,
    MT5_MAX_INPUT,
    bart_checkpoint,
    mt5_checkpoint,
    sentences,
)

FAST = {"num_beams": 2, "max_new_tokens": 8, "min_new_tokens": 2, "no_repeat_ngram_size": 3}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def slot(preset: str, path: Path | str = "", **decoding: Any) -> ModelSlotSettings:
    return ModelSlotSettings(preset=preset, path=str(path), decoding={**FAST, **decoding})


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def summarizer(model_slot: ModelSlotSettings) -> BatchedSummarizer:
    built = build_summarizer(Settings(models={"summarizer": model_slot}))
    assert built is not None
    return built


def engine_of(model: BatchedSummarizer) -> HFSummarizationEngine:
    engine = model.model.engine
    assert isinstance(engine, HFSummarizationEngine)
    return engine


def parts(model: BatchedSummarizer, text: str) -> list[str]:
    engine = engine_of(model)
    return split_to_fit(text, "en", engine.count_tokens, engine.max_input_tokens)


def _running(model_slot: ModelSlotSettings) -> Iterator[BatchedSummarizer]:
    """The started summariser of ``model_slot`` (closed when the caller's fixture ends)."""
    model = summarizer(model_slot)
    run(model.start())
    yield model
    model.close()


@pytest.fixture(scope="module")
def bart(bart_checkpoint: Path) -> Iterator[BatchedSummarizer]:  # noqa: F811
    yield from _running(slot("distilbart-cnn", bart_checkpoint))


@pytest.fixture(scope="module")
def mt5(mt5_checkpoint: Path) -> Iterator[BatchedSummarizer]:  # noqa: F811
    yield from _running(slot("mt5-xlsum", mt5_checkpoint))


def test_bart_loads_through_from_pretrained_and_reports_itself(bart: BatchedSummarizer) -> None:
    info = bart.info
    assert info.ready, info.detail
    assert info.role == "summarizer" and info.backend == "transformers"
    assert info.licence == "Apache-2.0" and info.languages == ("en",)
    params = dict(info.parameters)
    assert params["preset"] == "distilbart-cnn"
    assert params["num_beams"] == "2" and params["max_new_tokens"] == "8"
    assert params["length_penalty"] == "2.0"  # the preset's default, not overridden
    assert params["do_sample"] == "false"
    assert params["max_input_tokens"] == str(BART_MAX_INPUT)  # the tokenizer's limit wins
    assert bart.supports("en") and not bart.supports("ko")


def test_mt5_is_multilingual_and_non_commercial(mt5: BatchedSummarizer) -> None:
    info = mt5.info
    assert info.ready, info.detail
    assert "non-commercial" in info.licence
    assert mt5.supports("ko") and mt5.supports("id") and not mt5.supports("ms")
    assert dict(info.parameters)["max_input_tokens"] == str(MT5_MAX_INPUT)


@pytest.mark.parametrize("engine_name", ["bart", "mt5"])
def test_batch_output_structure_and_batch_equals_single(
    engine_name: str, request: pytest.FixtureRequest
) -> None:
    engine = engine_of(request.getfixturevalue(engine_name))
    texts = [" ".join(sentences(2, seed=s)) for s in (1, 2, 3)]
    texts[1] = texts[1][: len(texts[1]) // 2]  # different lengths: padding in the batch
    batch = engine.summarize_batch(texts, "en")
    assert len(batch) == 3 and all(isinstance(s, str) for s in batch)
    singles = [engine.summarize_batch([t], "en")[0] for t in texts]
    assert batch == singles
    assert engine.summarize_batch(texts, "en") == batch  # deterministic


def test_too_long_input_is_never_cut_by_the_batch_method(bart: BatchedSummarizer) -> None:
    long = " ".join(sentences(30, seed=4))
    with pytest.raises(InputTooLong):
        engine_of(bart).summarize_batch([long], "en")


def test_long_article_is_chunked_by_sentences(bart: BatchedSummarizer) -> None:
    text = "\n\n".join(" ".join(sentences(4, seed=s)) for s in range(8))
    pieces = parts(bart, text)
    assert len(pieces) > 2
    assert all(engine_of(bart).count_tokens(p) <= BART_MAX_INPUT for p in pieces)
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing reordered
    assert all(p.endswith(".") for p in pieces)  # cut at sentence ends

    summary = run(bart.summarize(text, "en"))
    assert summary.parts == len(pieces) and summary.chunked
    assert summary.rounds >= 2
    assert summary.input_tokens > BART_MAX_INPUT
    assert f"into {len(pieces)} parts" in summary.describe()

    short = run(bart.summarize(sentences(1, seed=9)[0], "en"))
    assert not short.chunked and short.rounds == 1


def test_a_sentence_longer_than_the_input_is_split_at_words(bart: BatchedSummarizer) -> None:
    endless = " ".join(["the council approved a new park"] * 40) + "."
    pieces = parts(bart, endless)
    assert len(pieces) > 1 and " ".join(pieces).split() == endless.split()


# ---- the pipeline ----------------------------------------------------------------------------


def _settings(summarizer: ModelSlotSettings, tmp: Path) -> Settings:
    return make_settings(
        models={
            "summarizer": summarizer.model_dump(),
            "translator": {"preset": "none"},
            "cache_dir": str(tmp),
        }
    )


def _started(summarizer: ModelSlotSettings, tmp: Path) -> Iterator[Pipeline]:
    """A started pipeline with ``summarizer`` (closed when the caller's fixture ends)."""
    settings = _settings(summarizer, tmp)
    pipeline = Pipeline(settings, summarizer=build_summarizer(settings))
    run(pipeline.start())
    yield pipeline
    pipeline.close()


def _pipeline_fixture(preset: str, checkpoint: str) -> Any:
    """A module fixture: the started pipeline whose summariser is ``preset`` loaded from the
    fixture named ``checkpoint``."""

    @pytest.fixture(scope="module")
    def started(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Pipeline]:
        model_slot = slot(preset, request.getfixturevalue(checkpoint))
        yield from _started(model_slot, tmp_path_factory.mktemp("hf"))

    return started


bart_pipeline = _pipeline_fixture("distilbart-cnn", "bart_checkpoint")
mt5_pipeline = _pipeline_fixture("mt5-xlsum", "mt5_checkpoint")


def _brief(pipeline: Pipeline, text: str, method: Method = Method.AUTO, **kw: Any) -> Any:
    return run(pipeline.brief(Article(text=text, **kw), BriefOptions(method=method)))


def test_abstractive_brief_of_a_long_article_says_it_was_chunked(bart_pipeline: Pipeline) -> None:
    text = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    result = _brief(bart_pipeline, text, Method.ABSTRACTIVE, source_language="en")
    codes = [w.code for w in result.warnings]
    assert "INPUT_CHUNKED" in codes
    chunked = next(w for w in result.warnings if w.code == "INPUT_CHUNKED")
    assert "parts" in chunked.message and "nothing was cut" in chunked.message
    neural = [m for m in result.models if m.backend == "transformers"]
    assert len(neural) == 1 and dict(neural[0].parameters)["preset"] == "distilbart-cnn"
    assert result.brief.summary and result.brief.headline
    if result.method == "distilbart-cnn":  # the junk passed the guard
        assert result.faithfulness.passed and "ABSTRACTIVE_REJECTED" not in codes
    else:  # the junk was caught: the extractive brief is served, with the reasons
        assert result.method == "extractive"
        assert "ABSTRACTIVE_REJECTED" in codes
        issues = result.faithfulness.issues
        assert any(i.startswith("rejected distilbart-cnn brief") for i in issues)
    assert "abstractive" in result.timings_ms


def test_auto_falls_back_to_extractive_for_an_unsupported_language(
    bart_pipeline: Pipeline,
) -> None:
    text = (FIXTURES / "ko_article.txt").read_text(encoding="utf-8")
    result = _brief(bart_pipeline, text, Method.AUTO)
    assert result.language.code == "ko"
    assert result.method == "extractive"
    assert [m.id for m in result.models] == ["extractive"]
    assert "abstractive" not in result.timings_ms
    with pytest.raises(CapabilityUnavailable) as info:
        _brief(bart_pipeline, text, Method.ABSTRACTIVE)
    assert "does not summarise 'ko'" in info.value.message


def test_info_reports_the_summariser_ready(bart_pipeline: Pipeline) -> None:
    info = bart_pipeline.info()
    caps = {c.name: c for c in info.capabilities}
    assert caps["summarize.abstractive"].ready
    assert any(m.role == "summarizer" and m.backend == "transformers" for m in info.models)


def test_absent_model_is_failed_precondition_offline(tmp_path: Path) -> None:
    """A configured preset that is not in the (empty) cache: HF_HUB_OFFLINE=1, nothing fetched;
    the server serves extractive briefs and names the model and the command for abstractive."""
    settings = _settings(slot("distilbart-cnn"), tmp_path)
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    with RunningServer(settings) as server, Client(server.target, retries=0) as client:
        ok = client.summarize(article)
        assert ok.method == "extractive" and ok.brief.summary
        with pytest.raises(FailedPreconditionError) as info:
            client.summarize(article, method="abstractive")
        message = info.value.message
        assert "sshleifer/distilbart-cnn-12-6" in message
        assert "newsbrief-server models download distilbart-cnn" in message
        caps = {c.name: c for c in client.server_info().capabilities}
        assert not caps["summarize.abstractive"].ready


def test_decoding_parameters_reach_the_client(
    bart_checkpoint: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = _settings(slot("distilbart-cnn", bart_checkpoint), tmp_path)
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    with RunningServer(settings) as server, Client(server.target, retries=0) as client:
        result = client.summarize(article, method="abstractive")
        neural = [m for m in result.models if m.backend == "transformers"]
        assert len(neural) == 1
        assert neural[0].parameters["num_beams"] == "2"
        assert neural[0].parameters["no_repeat_ngram_size"] == "3"
        assert result.method in ("distilbart-cnn", "extractive")
        assert any(w.code == "INPUT_CHUNKED" for w in result.warnings)
        info = {m.role + ":" + m.backend: m for m in client.server_info().models}
        assert info["summarizer:transformers"].ready
        assert info["summarizer:transformers"].parameters["preset"] == "distilbart-cnn"


def test_the_parts_of_an_article_go_through_the_batcher(bart: BatchedSummarizer) -> None:
    stats = bart.batcher.stats
    items, batches = stats.items_run, stats.batches
    summary = run(bart.summarize(" ".join(sentences(24, seed=5)), "en"))
    assert summary.parts > 1
    assert stats.items_run - items >= summary.parts  # every part, then the summaries of parts
    assert stats.batches - batches == summary.rounds  # one batch a round: one article alone


def test_the_summariser_honours_the_request_deadline(bart: BatchedSummarizer) -> None:
    runs = bart.batcher.stats.items_run
    with pytest.raises(DeadlineExceeded):
        run(bart.summarize(" ".join(sentences(24, seed=6)), "en", deadline=time.monotonic()))
    assert bart.batcher.stats.items_run == runs  # nothing reached the model


@pytest.fixture(scope="module")
def bart_real_defaults(
    bart_checkpoint: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BatchedSummarizer]:
    """The tiny BART with generation defaults like the real distilbart-cnn checkpoint's."""
    folder = tmp_path_factory.mktemp("bart-real-defaults") / "model"
    shutil.copytree(bart_checkpoint, folder)
    path = folder / "generation_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(
        max_length=142, min_length=56, no_repeat_ngram_size=3, num_beams=4, length_penalty=2.0
    )
    path.write_text(json.dumps(config), encoding="utf-8")
    model = summarizer(slot("distilbart-cnn", folder, min_new_tokens=0))
    run(model.start())
    yield model
    model.close()


def test_settings_decide_the_length_not_the_checkpoint_defaults(
    bart_real_defaults: BatchedSummarizer,
) -> None:
    """The checkpoint says min_length=56; the settings set no minimum. With the end-of-sequence
    token made the model's favourite, the summary must end at once, not be held open."""
    engine = engine_of(bart_real_defaults)
    model: Any = engine.model
    eos = model.config.eos_token_id
    bias = model.final_logits_bias
    bias[..., eos] += 100.0
    try:
        ids = engine._generate(engine._prepare([" ".join(sentences(2, seed=7))]))
    finally:
        bias[..., eos] -= 100.0
    assert ids.shape[1] <= 3  # decoder start, forced BOS, EOS


def test_mt5_briefs_korean_and_leaves_malay_to_the_extractive_brief(
    mt5_pipeline: Pipeline,
) -> None:
    korean = (FIXTURES / "ko_article.txt").read_text(encoding="utf-8")
    result = _brief(mt5_pipeline, korean, Method.ABSTRACTIVE)
    codes = [w.code for w in result.warnings]
    assert result.language.code == "ko"
    assert "mt5-xlsum" in [dict(m.parameters).get("preset") for m in result.models]
    if result.method == "mt5-xlsum":
        assert result.faithfulness.passed
    else:  # random weights: often an empty summary, which is rejected
        assert result.method == "extractive" and "ABSTRACTIVE_REJECTED" in codes
    malay = (FIXTURES / "ms_article.txt").read_text(encoding="utf-8")
    result = _brief(mt5_pipeline, malay, Method.AUTO)
    assert result.language.code == "ms"
    assert result.method == "extractive" and [m.id for m in result.models] == ["extractive"]
