"""The CTranslate2 engine on the tiny checkpoints (M2M100 model with NllbTokenizer and with
M2M100Tokenizer), converted at test time. float32 greedy output equals transformers greedy output
token for token; int8 is compared on structure only (it may change a greedy token).
Serving a converted model imports neither torch nor transformers (checked in a subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from newsbrief.service.models.ct2.convert import convert_checkpoint, convert_preset
from newsbrief.service.models.ct2.runtime import TOKENIZER_DIR, ct2_model_dir, is_ct2_dir
from newsbrief.service.models.ct2.tokenizer import PieceTokenizer
from newsbrief.service.models.ct2.translate import CT2TranslationEngine
from newsbrief.service.models.factory import build_summarizer, build_translator
from newsbrief.service.models.presets import PRESETS, Decoding
from newsbrief.service.models.protocols import Translated
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings, Settings
from tests.model.summarizers import (  # noqa: F401  (session fixtures)
    bart_checkpoint,
    mt5_checkpoint,
)

pytest.importorskip("ctranslate2", reason="the CTranslate2 tests need the ct2 extra")

MAX_NEW = 10
GREEDY = Decoding(num_beams=1, max_new_tokens=MAX_NEW)
TEXTS = [
    "The council approved a new park on Tuesday.",
    "It will cost 45 million dollars, said mayor Lee.",
    "Residents welcomed the plan.",
    "시의회는 화요일 새 공원을 승인했다.",
]
PRESET_OF = {"nllb": "nllb-600m", "m2m100": "m2m100-418m", "madlad": "madlad400-3b"}


@pytest.fixture(scope="module", params=["nllb", "m2m100"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def checkpoint(kind: str, request: pytest.FixtureRequest) -> Path:
    return Path(request.getfixturevalue(f"{kind}_checkpoint"))


@pytest.fixture(scope="module")
def converted(checkpoint: Path, kind: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """float32 and int8 conversions of the checkpoint, made once per module."""
    out = tmp_path_factory.mktemp(f"ct2-{kind}")
    return {
        q: convert_checkpoint(checkpoint, out / q, quantization=q, meta={"preset": kind})
        for q in ("float32", "int8")
    }


def _engine(
    model_dir: Path, kind: str, compute_type: str, max_input_tokens: int = 0
) -> CT2TranslationEngine:
    p = PRESETS[PRESET_OF[kind]]
    return CT2TranslationEngine.load(
        model_dir,
        family=p.family,
        codes={lang: p.code(lang) or "" for lang in p.languages},
        decoding=GREEDY,
        max_input_tokens=max_input_tokens or p.max_input_tokens,
        compute_type=compute_type,
        intra_threads=1,
    )


@pytest.fixture(scope="module")
def hf(checkpoint: Path) -> Any:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(checkpoint)).eval()
    return tokenizer, model


def _set_source(tokenizer: Any, kind: str, code: str | None) -> None:
    assert code is not None
    tokenizer.src_lang = code.strip("_") if kind == "m2m100" else code


def test_conversion_layout(converted: dict[str, Path], kind: str) -> None:
    for q, path in converted.items():
        assert is_ct2_dir(path)
        meta = json.loads((path / "newsbrief.json").read_text())
        assert meta["quantization"] == q and meta["preset"] == kind
        assert any((path / TOKENIZER_DIR).glob("*.model"))
        assert (path / TOKENIZER_DIR / "config.json").is_file()
    with pytest.raises(FileExistsError):
        convert_checkpoint(Path("unused"), converted["int8"])


def test_tokens_equal_the_hf_tokenizer(converted: dict[str, Path], hf: Any, kind: str) -> None:
    tokenizer, _ = hf
    p = PRESETS[PRESET_OF[kind]]
    ours = PieceTokenizer(converted["int8"] / TOKENIZER_DIR, p.family)
    for lang, text in [("en", t) for t in TEXTS[:3]] + [("ko", TEXTS[3])]:
        _set_source(tokenizer, kind, p.code(lang))
        ids = tokenizer(text)["input_ids"]
        assert ours.source(text, p.code(lang))[0] == tokenizer.convert_ids_to_tokens(ids)


@pytest.mark.parametrize("target", ["ko", "ms"])
def test_float32_greedy_equals_transformers(
    converted: dict[str, Path], hf: Any, kind: str, target: str
) -> None:
    import torch

    tokenizer, model = hf
    p = PRESETS[PRESET_OF[kind]]
    engine = _engine(converted["float32"], kind, "float32")
    code = p.code(target)
    assert code is not None
    forced = tokenizer.convert_tokens_to_ids(code)
    source = "ko" if target == "ms" else "en"
    texts = [TEXTS[3]] if source == "ko" else TEXTS[:3]
    prepared = engine.prepare(texts, source, target)
    hypotheses = engine.generate(prepared)
    for text, hyp in zip(texts, hypotheses, strict=True):
        _set_source(tokenizer, kind, p.code(source))
        inputs = tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                forced_bos_token_id=forced,
                num_beams=1,
                do_sample=False,
                max_new_tokens=MAX_NEW,
            )
        row = out[0].tolist()
        assert row[0] == model.config.decoder_start_token_id
        row = row[1:]
        if row and row[-1] == tokenizer.eos_token_id:
            row = row[:-1]
        assert tokenizer.convert_tokens_to_ids(hyp) == row  # token for token
        assert hyp[0] == code


@pytest.mark.parametrize("target", ["ko", "ms", "id"])
def test_int8_structure_and_forced_language(
    converted: dict[str, Path], kind: str, target: str
) -> None:
    engine = _engine(converted["int8"], kind, "int8")
    code = PRESETS[PRESET_OF[kind]].code(target)
    assert code is not None
    hypotheses = engine.generate(engine.prepare(TEXTS, "en", target))
    assert len(hypotheses) == len(TEXTS)
    for hyp in hypotheses:
        assert hyp[0] == code  # the forced target-language token
        assert 1 <= len(hyp) <= MAX_NEW
    batch = engine.translate_batch(["", *TEXTS, "  "], "en", target)
    assert isinstance(batch, Translated)
    texts = batch.texts
    assert len(texts) == len(TEXTS) + 2 and texts[0] == "" and texts[-1] == ""
    assert all(isinstance(t, str) and code not in t for t in texts)
    assert engine.translate_batch(TEXTS[:1], "en", "en").texts == TEXTS[:1]
    with pytest.raises(ValueError):
        engine.translate_batch(TEXTS[:1], "en", "xx")


def test_long_input_is_cut_with_a_warning(converted: dict[str, Path], kind: str) -> None:
    engine = _engine(converted["int8"], kind, "int8", max_input_tokens=12)
    overlong = "The council " + "approved " * 20 + "a park."  # one sentence: cannot be split
    batch = engine.translate_batch([overlong, TEXTS[2]], "en", "ko")
    assert "TRANSLATION_INPUT_TRUNCATED" in [w.code for w in batch.notices_per_text[0]]
    assert "TRANSLATION_INPUT_TRUNCATED" not in [w.code for w in batch.notices_per_text[1]]
    prepared = engine.prepare([TEXTS[0] * 5], "en", "ko")
    assert len(prepared.sources[0]) == 12 and prepared.sources[0][-1] == "</s>"
    assert prepared.truncated == [0]


def _slot(kind: str, path: Path | str = "", **extra: Any) -> ModelSlotSettings:
    return ModelSlotSettings(
        preset=PRESET_OF[kind],
        path=str(path),
        engine="ctranslate2",
        threads=1,
        decoding={"num_beams": 1, "max_new_tokens": 8},
        **extra,
    )


def test_convert_preset_from_a_local_path(checkpoint: Path, kind: str, tmp_path: Path) -> None:
    models = ModelsSettings(ct2_dir=tmp_path / "ct2")
    slot = _slot(kind, checkpoint)
    out = convert_preset(PRESET_OF[kind], models, slot=slot)
    assert out == ct2_model_dir(slot, models) and is_ct2_dir(out)
    assert out.parent == tmp_path / "ct2" and out.name.endswith("-int8")
    assert convert_preset(PRESET_OF[kind], models, slot=slot) == out  # already there
    meta = json.loads((out / "newsbrief.json").read_text())
    assert meta["model_id"] == str(checkpoint) and meta["family"] == PRESETS[PRESET_OF[kind]].family


def _translator_settings(slot: ModelSlotSettings, **models: Any) -> Settings:
    return Settings(models={"translator": slot, **models})


def test_ct2_translator_lifecycle(converted: dict[str, Path], kind: str, tmp_path: Path) -> None:
    async def run() -> None:
        translator = build_translator(_translator_settings(_slot(kind, converted["int8"])))
        assert translator is not None
        try:
            await translator.start()
            info = translator.info
            assert info.ready and info.backend == "ctranslate2", info.detail
            out = await translator.translate(TEXTS[:2], "en", "ms")
            assert len(out.texts) == 2
        finally:
            translator.close()

        absent = build_translator(_translator_settings(_slot(kind), ct2_dir=tmp_path / "none"))
        assert absent is not None
        try:
            await absent.start()
            assert not absent.info.ready
            assert f"newsbrief-server models convert {PRESET_OF[kind]}" in absent.info.detail
        finally:
            absent.close()

    asyncio.run(run())


SERVE_WITHOUT_TORCH = textwrap.dedent(
    """
    import asyncio, os, sys
    from newsbrief.service.app import App
    from newsbrief.service.domain import Article, BriefOptions
    from newsbrief.service.settings import Settings

    async def main():
        app = App(Settings(host="127.0.0.1", port=0, http_port=0, drain_seconds=0))
        await app.start()
        result = await app.pipeline.brief(
            Article(text="The council approved a new park on Tuesday. It will cost 45 million "
                    "dollars, said mayor Lee. Residents welcomed the plan."),
            BriefOptions(target_languages=("ko", "ms")),
        )
        assert [t.language for t in result.translations] == ["ko", "ms"], result
        assert any(m.backend == "ctranslate2" and m.ready for m in result.models), result.models
        if os.environ.get("EXPECT_CT2_SUMMARIZER"):
            assert any(
                m.role == "summarizer" and m.backend == "ctranslate2" and m.ready
                for m in result.models
            ), result.models
        await app.stop(grace=0)
        heavy = [m for m in ("torch", "transformers") if m in sys.modules]
        print("HEAVY", heavy)

    asyncio.run(main())
    """
)


def test_server_with_only_ct2_models_never_imports_torch(
    converted: dict[str, Path], kind: str
) -> None:
    _serve_without_torch(_ct2_translator_env(converted["int8"], kind))


def test_ct2_summariser_and_translator_never_import_torch(
    converted: dict[str, Path], kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if kind != "nllb":
        pytest.skip("one translator family is enough here")
    checkpoint = Path(request.getfixturevalue("bart_checkpoint"))
    bart = convert_checkpoint(checkpoint, tmp_path / "bart-int8", quantization="int8")
    env = _ct2_translator_env(converted["int8"], kind)
    env.update(
        {
            "EXPECT_CT2_SUMMARIZER": "1",
            "NEWSBRIEF_MODELS__SUMMARIZER__PRESET": "distilbart-cnn",
            "NEWSBRIEF_MODELS__SUMMARIZER__ENGINE": "ctranslate2",
            "NEWSBRIEF_MODELS__SUMMARIZER__PATH": str(bart),
            "NEWSBRIEF_MODELS__SUMMARIZER__THREADS": "1",
            "NEWSBRIEF_MODELS__SUMMARIZER__DECODING__NUM_BEAMS": "1",
            "NEWSBRIEF_MODELS__SUMMARIZER__DECODING__MAX_NEW_TOKENS": "8",
            "NEWSBRIEF_MODELS__SUMMARIZER__DECODING__MIN_NEW_TOKENS": "0",
        }
    )
    _serve_without_torch(env)


def _ct2_translator_env(model_dir: Path, kind: str) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": PRESET_OF[kind],
        "NEWSBRIEF_MODELS__TRANSLATOR__ENGINE": "ctranslate2",
        "NEWSBRIEF_MODELS__TRANSLATOR__PATH": str(model_dir),
        "NEWSBRIEF_MODELS__TRANSLATOR__THREADS": "1",
        "NEWSBRIEF_MODELS__TRANSLATOR__DECODING__NUM_BEAMS": "1",
        "NEWSBRIEF_MODELS__TRANSLATOR__DECODING__MAX_NEW_TOKENS": "8",
        "NEWSBRIEF_MODELS__SUMMARIZER__PRESET": "extractive",
        "NEWSBRIEF_LOGGING__ACCESS_LOG": "false",
    }


def _serve_without_torch(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_TORCH],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr[-3000:]


# ---- the models convert command ----------------------------------------------------------------


def test_models_convert_command(
    m2m100_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from newsbrief.service.cli import main

    monkeypatch.setenv("NEWSBRIEF_MODELS__CT2_DIR", str(tmp_path / "ct2"))
    monkeypatch.setenv("NEWSBRIEF_MODELS__TRANSLATOR__PRESET", "m2m100-418m")
    monkeypatch.setenv("NEWSBRIEF_MODELS__TRANSLATOR__ENGINE", "ctranslate2")
    monkeypatch.setenv("NEWSBRIEF_MODELS__TRANSLATOR__PATH", str(m2m100_checkpoint))
    assert main(["models", "convert"]) == 0  # the slot configured with engine=ctranslate2
    out = capsys.readouterr().out
    assert "m2m100-418m: CTranslate2 model in" in out
    assert any(is_ct2_dir(p) for p in (tmp_path / "ct2").iterdir())
    assert main(["models", "convert", "no-such-preset"]) == 2
    # a preset with no local model: the message names the command that fetches it
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert main(["models", "convert", "nllb-600m"]) == 1
    assert "newsbrief-server models download nllb-600m" in capsys.readouterr().err


# ---- MADLAD (T5, target tag in the source) -----------------------------------------------------


def test_madlad_float32_greedy_equals_transformers(madlad_checkpoint: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    out = convert_checkpoint(madlad_checkpoint, tmp_path / "madlad", quantization="float32")
    engine = _engine(out, "madlad", "float32")
    tokenizer = AutoTokenizer.from_pretrained(str(madlad_checkpoint))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(madlad_checkpoint)).eval()
    prepared = engine.prepare(TEXTS[:2], "en", "ko")
    for text, source, hyp in zip(
        TEXTS[:2], prepared.sources, engine.generate(prepared), strict=True
    ):
        ids = tokenizer(f"<2ko> {text}")["input_ids"]
        assert source == tokenizer.convert_ids_to_tokens(ids)
        with torch.inference_mode():
            row = model.generate(
                input_ids=torch.tensor([ids]), num_beams=1, do_sample=False, max_new_tokens=MAX_NEW
            )[0].tolist()
        row = row[1:]
        if row and row[-1] == tokenizer.eos_token_id:
            row = row[:-1]
        assert tokenizer.convert_tokens_to_ids(hyp) == row


# ---- summarisers: BART and mT5 -----------------------------------------------------------------


@pytest.fixture(scope="module", params=["bart", "mt5"])
def summariser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    family = str(request.param)
    checkpoint = Path(request.getfixturevalue(f"{family}_checkpoint"))
    out = convert_checkpoint(
        checkpoint, tmp_path_factory.mktemp(f"ct2-{family}") / "f32", quantization="float32"
    )
    return family, checkpoint, out


SUMMARY_TEXTS = [
    "The council approved a new park on Tuesday. It will cost 45 million dollars.",
    "Residents welcomed the plan, which includes trees and paths.",
]


def test_summariser_float32_greedy_and_scores_equal_transformers(summariser: Any) -> None:
    """Token parity and log-prob parity: the mT5 tying trap shows in the scores."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from newsbrief.service.models.ct2.summarize import CT2SummarizationEngine

    family, checkpoint, out = summariser
    engine = CT2SummarizationEngine.load(
        out, family=family, decoding=GREEDY, max_input_tokens=512, compute_type="float32"
    )
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(checkpoint)).eval()
    for text in SUMMARY_TEXTS:
        ids = tokenizer(text)["input_ids"]
        source = engine.tokenizer.source(text)[0]
        assert source == tokenizer.convert_ids_to_tokens(ids)
        result = engine.translator.translate_batch(
            [source],
            target_prefix=[engine.prefix] if engine.prefix else None,
            beam_size=1,
            max_decoding_length=MAX_NEW,
            min_decoding_length=0,
            return_scores=True,
        )[0]
        with torch.inference_mode():
            gen = model.generate(
                input_ids=torch.tensor([ids]),
                num_beams=1,
                do_sample=False,
                max_new_tokens=MAX_NEW,
                min_new_tokens=0,
                no_repeat_ngram_size=0,
                output_scores=True,
                return_dict_in_generate=True,
            )
        row = gen.sequences[0].tolist()[1:]
        steps = model.compute_transition_scores(gen.sequences, gen.scores, normalize_logits=True)
        log_probs = steps[0].tolist()
        if row and row[-1] == tokenizer.eos_token_id:
            row, log_probs = row[:-1], log_probs  # the eos step counts in both scores
        hyp = result.hypotheses[0]
        assert tokenizer.convert_tokens_to_ids(hyp) == row
        total = sum(log_probs)
        assert result.scores[0] == pytest.approx(total, abs=1e-3) or result.scores[
            0
        ] == pytest.approx(total / len(log_probs), abs=1e-3)


def test_ct2_summarizer_lifecycle_and_chunking(summariser: Any) -> None:
    from newsbrief.service.models.ct2.summarize import CT2SummarizationEngine
    from tests.model.summarizers import sentences

    family, _, out = summariser
    slot = ModelSlotSettings(
        preset="distilbart-cnn" if family == "bart" else "mt5-xlsum",
        path=str(out),
        engine="ctranslate2",
        compute_type="float32",
        threads=1,
        decoding={"num_beams": 1, "max_new_tokens": 6, "min_new_tokens": 0},
    )
    summarizer = build_summarizer(Settings(models={"summarizer": slot}))
    assert summarizer is not None

    async def run() -> None:
        try:
            await summarizer.start()
            info = summarizer.info
            assert info.ready and info.backend == "ctranslate2", info.detail
            long_text = " ".join(sentences(40))
            summary = await summarizer.summarize(long_text, "en")
            assert summary.chunked and summary.parts > 1  # longer than the tiny model's input
            assert isinstance(summary.text, str)
            backend = summarizer.model.engine
            assert isinstance(backend, CT2SummarizationEngine)
            assert backend.summarize_batch(["Short one.", "Another."], "en") == [
                backend.summarize_batch(["Short one."], "en")[0],
                backend.summarize_batch(["Another."], "en")[0],
            ]
        finally:
            summarizer.close()

    asyncio.run(run())


@pytest.mark.parametrize("engine", ["ctranslate2", "transformers"])
def test_parts_of_concurrent_articles_share_summariser_calls(summariser: Any, engine: str) -> None:
    from tests.model.summarizers import sentences

    family, checkpoint, out = summariser
    slot = ModelSlotSettings(
        preset="distilbart-cnn" if family == "bart" else "mt5-xlsum",
        path=str(out if engine == "ctranslate2" else checkpoint),
        engine=engine,
        compute_type="float32",
        threads=1,
        decoding={"num_beams": 1, "max_new_tokens": 4, "min_new_tokens": 0},
        batching={"max_wait_ms": 50, "max_batch_size": 64, "max_batch_tokens": 100_000},
    )
    summarizer = build_summarizer(Settings(models={"summarizer": slot}))
    assert summarizer is not None

    async def run() -> list[Any]:
        try:
            await summarizer.start()
            assert summarizer.info.ready, summarizer.info.detail
            articles = [" ".join(sentences(30, seed=i)) for i in range(4)]
            return list(await asyncio.gather(*(summarizer.summarize(a, "en") for a in articles)))
        finally:
            summarizer.close()

    summaries = asyncio.run(run())
    parts = sum(s.parts for s in summaries)
    stats = summarizer.batcher.stats
    assert all(s.chunked for s in summaries) and stats.items_run >= parts
    assert stats.batches < stats.items_run  # parts of different articles went together
