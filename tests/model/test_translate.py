"""The transformers translation engine on tiny checkpoints of the real classes (M2M100 model with
NllbTokenizer and with M2M100Tokenizer), loaded through ``from_pretrained`` as in production.
Random weights: assertions are about language tokens, counts, batching and errors, never text."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from newsbrief.service.domain import TranslateResult
from newsbrief.service.models.batching import BatchedTranslator
from newsbrief.service.models.chunking import sentence_runs
from newsbrief.service.models.factory import build_translator
from newsbrief.service.models.hf.translate import (
    HFTranslationEngine,
    ModelLoadError,
)
from newsbrief.service.models.presets import PRESETS, Decoding
from newsbrief.service.models.protocols import Translated, TranslationEngine
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import BatchingSettings, Settings
from tests.conftest import make_settings

GREEDY = Decoding(num_beams=1, max_new_tokens=8)
TEXTS = [
    "The council approved a new park on Tuesday.",
    "It will cost 45 million dollars, said mayor Lee.",
    "Residents welcomed the plan.",
]


def _engine(path: Path, preset: str, decoding: Decoding = GREEDY) -> HFTranslationEngine:
    p = PRESETS[preset]
    return HFTranslationEngine.load(
        path,
        family=p.family,
        codes={lang: p.code(lang) or "" for lang in p.languages},
        decoding=decoding,
        max_input_tokens=p.max_input_tokens,
    )


@pytest.fixture(scope="module")
def nllb(nllb_checkpoint: Path) -> HFTranslationEngine:
    return _engine(nllb_checkpoint, "nllb-600m")


@pytest.fixture(scope="module")
def m2m100(m2m100_checkpoint: Path) -> HFTranslationEngine:
    return _engine(m2m100_checkpoint, "m2m100-418m")


@pytest.fixture(scope="module")
def madlad(madlad_checkpoint: Path) -> HFTranslationEngine:
    return _engine(madlad_checkpoint, "madlad400-3b")


@pytest.fixture(params=["nllb", "m2m100", "madlad"])
def engine(request: pytest.FixtureRequest) -> HFTranslationEngine:
    return request.getfixturevalue(request.param)


def test_language_codes_map_to_real_tokens(engine: HFTranslationEngine) -> None:
    tok = engine.tokenizer
    assert set(engine.language_ids) == {"en", "ko", "ms", "id"}
    for lang, token_id in engine.language_ids.items():
        assert token_id != tok.unk_token_id
        assert tok.convert_ids_to_tokens(token_id) == engine.codes[lang]
    assert len(set(engine.language_ids.values())) == 4


@pytest.mark.parametrize("target", ["ko", "ms"])
def test_forced_target_language_token_is_the_first_generated_token(
    nllb: HFTranslationEngine, m2m100: HFTranslationEngine, target: str
) -> None:
    for engine in (nllb, m2m100):
        _check_forced_token(engine, target)


def _check_forced_token(engine: HFTranslationEngine, target: str) -> None:
    prepared = engine.prepare(TEXTS, "en", target)
    # the source language token leads every input (NLLB non-legacy and M2M100 alike)
    assert (prepared.inputs["input_ids"][:, 0] == engine.language_ids["en"]).all()
    assert prepared.forced_token_id == engine.language_ids[target]
    output = engine.generate(prepared)
    start = engine.model.config.decoder_start_token_id
    assert (output[:, 0] == start).all()
    assert (output[:, 1] == engine.language_ids[target]).all()
    assert output.shape[0] == len(TEXTS)
    assert output.shape[1] <= 1 + GREEDY.max_new_tokens


@pytest.mark.parametrize("target", ["ko", "ms"])
def test_madlad_target_tag_leads_the_source(madlad: HFTranslationEngine, target: str) -> None:
    prepared = madlad.prepare(TEXTS, "en", target)
    assert prepared.forced_token_id is None
    assert (prepared.inputs["input_ids"][:, 0] == madlad.language_ids[target]).all()
    output = madlad.generate(prepared)
    assert output.shape[0] == len(TEXTS) and output.shape[1] <= 1 + GREEDY.max_new_tokens


def test_one_translation_per_text_and_empty_texts_stay_empty(engine: HFTranslationEngine) -> None:
    out = engine.translate_batch(["", *TEXTS, "  "], "en", "ko")
    assert isinstance(out, Translated)
    assert len(out.texts) == len(out.notices_per_text) == len(TEXTS) + 2
    assert out.texts[0] == "" and out.texts[-1] == ""
    assert all(isinstance(t, str) for t in out.texts)
    assert not any(t.startswith(("kor_Hang", "__ko__", "<2ko>")) for t in out.texts)


def test_batch_and_single_results_are_equal(engine: HFTranslationEngine) -> None:
    batch = engine.translate_batch(TEXTS, "en", "ms")
    single = [engine.translate_batch([t], "en", "ms").texts[0] for t in TEXTS]
    assert batch.texts == single


def test_deterministic(engine: HFTranslationEngine) -> None:
    assert engine.translate_batch(TEXTS, "en", "ko") == engine.translate_batch(TEXTS, "en", "ko")


def test_beam_search_decoding_from_settings(m2m100_checkpoint: Path) -> None:
    beams = _engine(m2m100_checkpoint, "m2m100-418m", Decoding(num_beams=3, max_new_tokens=6))
    output = beams.generate(beams.prepare(TEXTS[:2], "en", "ko"))
    assert (output[:, 1] == beams.language_ids["ko"]).all()
    assert output.shape[1] <= 7


def test_long_text_is_translated_in_runs_of_sentences(m2m100: HFTranslationEngine) -> None:
    long_text = " ".join(f"The council approved park number {i}." for i in range(120))
    parts = sentence_runs(long_text, "en", m2m100.count_tokens, m2m100.max_input_tokens - 4)
    assert len(parts) > 1 and " ".join(parts) == long_text  # whole sentences, nothing lost
    assert all(m2m100.count_tokens(p) <= m2m100.max_input_tokens for p in parts)
    out = m2m100.translate_batch([TEXTS[0], long_text], "en", "ko")
    assert len(out) == 2
    # the notice belongs to the text it concerns
    assert "TRANSLATION_SPLIT" not in {w.code for w in out.notices_per_text[0]}
    codes = {w.code: w.message for w in out.notices_per_text[1]}
    assert "runs of whole sentences" in codes["TRANSLATION_SPLIT"]
    assert "TRANSLATION_INPUT_TRUNCATED" not in codes


def test_one_overlong_sentence_is_truncated_with_a_warning(m2m100: HFTranslationEngine) -> None:
    sentence = " ".join(["council park river"] * 300) + "."
    out = m2m100.translate_batch([sentence], "en", "ms")
    codes = {w.code: w.message for w in out.notices_per_text[0]}
    assert "only its beginning was translated into ms" in codes["TRANSLATION_INPUT_TRUNCATED"]


def test_unknown_language_code_fails_the_load(nllb_checkpoint: Path) -> None:
    with pytest.raises(ModelLoadError, match="xxx_Fake"):
        HFTranslationEngine.load(
            nllb_checkpoint,
            family="nllb",
            codes={"en": "eng_Latn", "ko": "xxx_Fake"},
            decoding=GREEDY,
            max_input_tokens=64,
        )


def test_nllb_tokenizer_without_its_codes_is_caught(nllb_checkpoint: Path, tmp_path: Path) -> None:
    """A known trap: a folder with only the sentencepiece model has no (usable) codes."""
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copy(nllb_checkpoint / name, bare / name)
    shutil.copy(nllb_checkpoint / "sentencepiece.bpe.model", bare / "sentencepiece.bpe.model")
    (bare / "tokenizer_config.json").write_text('{"tokenizer_class": "NllbTokenizer"}')
    with pytest.raises(ModelLoadError, match="language codes"):
        _engine(bare, "nllb-600m")


def _settings(path: Path, preset: str, **batching: object) -> Settings:
    slot = {
        "preset": preset,
        "path": str(path),
        "threads": 1,
        "decoding": {"num_beams": 1, "max_new_tokens": 8},
        "batching": batching,
    }
    return make_settings(models={"translator": slot}, cache={"enabled": False})


class _ThreadRecorder:
    """An engine wrapped to record the threads its batches run on (composition, no patching)."""

    def __init__(self, engine: TranslationEngine) -> None:
        self.engine = engine
        self.threads: list[str] = []

    @property
    def max_input_tokens(self) -> int:
        return self.engine.max_input_tokens

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        self.threads.append(threading.current_thread().name)
        return self.engine.translate_batch(texts, source, target)


def test_translator_loads_on_its_own_worker_and_reports_itself(nllb_checkpoint: Path) -> None:
    translator = build_translator(_settings(nllb_checkpoint, "nllb-600m"))
    assert translator is not None and not translator.info.ready

    async def run() -> tuple[Translated, list[str]]:
        await translator.start()
        recorder = _ThreadRecorder(translator.model.engine)
        info = translator.info
        wrapped = BatchedTranslator(ModelWorker(info, lambda: (recorder, info)), BatchingSettings())
        await wrapped.start()
        try:
            return await wrapped.translate(TEXTS, "en", "ko"), recorder.threads
        finally:
            wrapped.close()

    try:
        out, threads = asyncio.run(run())
    finally:
        translator.close()
    info = translator.info
    assert info.ready, info.detail
    assert info.id == str(nllb_checkpoint)
    assert info.licence.startswith("CC BY-NC")
    assert info.languages == ("en", "ko", "ms", "id")
    assert info.backend == "transformers"
    assert len(out.texts) == len(TEXTS)
    assert threads and all(name.startswith("newsbrief-translator") for name in threads)
    assert translator.supports("en", "ms") and not translator.supports("en", "fr")


def test_translator_with_a_broken_directory_is_not_ready(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    translator = build_translator(_settings(tmp_path, "m2m100-418m"))
    assert translator is not None

    async def run() -> None:
        try:
            await translator.start()
        finally:
            translator.close()

    asyncio.run(run())
    assert not translator.info.ready
    assert "failed to load" in translator.info.detail


def test_requests_sharing_a_model_batch_get_only_their_own_notices(
    m2m100_checkpoint: Path,
) -> None:
    """Two Translate requests run in one model batch (it closes when its 4 texts are in: no gap
    rule, so a busy machine between the two submissions does not close it early); the long text
    of the first is split, and only the first request hears of it."""
    long_text = " ".join(f"The council approved park number {i}." for i in range(120))
    settings = _settings(
        m2m100_checkpoint,
        "m2m100-418m",
        max_batch_size=4,
        max_wait_ms=60_000,
        max_gap_ms=0,
        max_batch_tokens=100_000,
    )
    translator = build_translator(settings)
    assert translator is not None

    async def run() -> tuple[TranslateResult, TranslateResult]:
        pipeline = Pipeline(settings, translator=translator)
        await pipeline.start()
        try:
            return await asyncio.gather(
                pipeline.translate([TEXTS[0], long_text], "en", ["ko"]),
                pipeline.translate(TEXTS[1:], "en", ["ko"]),
            )
        finally:
            pipeline.close()

    first, second = asyncio.run(run())
    assert translator.batcher.stats.batch_sizes[4] == 1  # one model call served both
    split = [w for w in first.warnings if w.code == "TRANSLATION_SPLIT"]
    assert len(split) == 1 and split[0].message.startswith("text 2 (ko): longer than")
    assert not [w for w in second.warnings if w.code == "TRANSLATION_SPLIT"]
    for w in second.warnings:
        assert "text 3" not in w.message  # the other request's texts are not named here


def test_generation_config_max_length_does_not_warn_on_every_call(
    nllb_checkpoint: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Real NLLB ships max_length=200; beside max_new_tokens it warns."""
    import json

    folder = tmp_path / "nllb-max-length"
    shutil.copytree(nllb_checkpoint, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "max_length": 200}))
    engine = _engine(folder, "nllb-600m", Decoding(num_beams=1, max_new_tokens=12))
    capfd.readouterr()
    output = engine.generate(engine.prepare(TEXTS[:1], "en", "ko"))
    assert output.shape[1] <= 13
    assert "max_length" not in capfd.readouterr().err
