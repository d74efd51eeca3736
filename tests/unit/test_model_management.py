"""Presets, code tables and slot resolution without torch and without the network
(``HF_HUB_OFFLINE=1``); ``newsbrief-server models`` as a command is in
tests/integration/test_model_cli.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsbrief.service.models.batching import BatchedTranslator
from newsbrief.service.models.factory import build_translator
from newsbrief.service.models.presets import (
    LANGUAGE_CODES,
    PRESETS,
    Decoding,
    backend_code,
    get_preset,
)
from newsbrief.service.models.resolve import (
    configured_presets,
    engine_detail,
    resolve_slot,
)
from newsbrief.service.settings import (
    DecodingSettings,
    ModelSlotSettings,
    ModelsSettings,
    Settings,
)
from tests.conftest import make_settings
from tests.fakes import fake_snapshot

OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1"}


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_presets_follow_the_design_table() -> None:
    assert PRESETS["m2m100-418m"].hub_id == "facebook/m2m100_418M"
    assert PRESETS["m2m100-418m"].licence == "MIT"
    assert PRESETS["nllb-600m"].licence.startswith("CC BY-NC 4.0")
    assert not PRESETS["nllb-600m"].commercial_use
    assert PRESETS["mt5-xlsum"].licence.startswith("CC BY-NC-SA 4.0")
    assert PRESETS["distilbart-cnn"].languages == ("en",)
    for preset in PRESETS.values():
        assert preset.revision == "main" or len(preset.revision) == 40
        assert all(backend_code(preset.family, lang) for lang in preset.languages)
    with pytest.raises(KeyError, match="known presets"):
        get_preset("gpt-9")


def test_one_code_table_per_family() -> None:
    assert LANGUAGE_CODES["m2m100"]["ko"] == "__ko__"
    assert LANGUAGE_CODES["nllb"]["ko"] == "kor_Hang"
    assert LANGUAGE_CODES["nllb"]["ms"] == "zsm_Latn"
    assert LANGUAGE_CODES["nllb"]["en"] == "eng_Latn"
    assert LANGUAGE_CODES["nllb"]["id"] == "ind_Latn"
    assert backend_code("nllb", "fr") is None


def test_decoding_is_deterministic_and_settings_override_the_preset() -> None:
    base = PRESETS["distilbart-cnn"].decoding
    merged = base.merged(DecodingSettings(num_beams=2, max_new_tokens=40))
    assert (merged.num_beams, merged.max_new_tokens) == (2, 40)
    assert merged.no_repeat_ngram_size == base.no_repeat_ngram_size
    kwargs = merged.generate_kwargs()
    assert kwargs["do_sample"] is False
    assert Decoding(num_beams=1).generate_kwargs().get("length_penalty") is None


def test_absent_preset_says_how_to_install_it(tmp_path: Path) -> None:
    slot = ModelSlotSettings(preset="m2m100-418m")
    resolution = resolve_slot(slot, ModelsSettings(cache_dir=tmp_path), "translator")
    assert not resolution.ok
    assert resolution.detail == (
        "model facebook/m2m100_418M is not installed: run "
        "`newsbrief-server models download m2m100-418m` (or `make models`)"
    )


def test_preset_found_in_the_hf_cache_at_its_pinned_revision(tmp_path: Path) -> None:
    preset = PRESETS["nllb-600m"]
    snapshot = fake_snapshot(tmp_path, preset.hub_id, preset.revision)
    slot = ModelSlotSettings(preset="nllb-600m")
    resolution = resolve_slot(slot, ModelsSettings(cache_dir=tmp_path), "translator")
    assert resolution.ok and resolution.path == snapshot
    assert (resolution.model_id, resolution.revision) == (preset.hub_id, preset.revision)
    # another revision is another model: not installed
    other = ModelSlotSettings(preset="nllb-600m", revision="0" * 40)
    assert not resolve_slot(other, ModelsSettings(cache_dir=tmp_path), "translator").ok


def test_explicit_path(tmp_path: Path) -> None:
    slot = ModelSlotSettings(preset="m2m100-418m", path=str(tmp_path / "nope"))
    resolution = resolve_slot(slot, ModelsSettings(), "translator")
    assert not resolution.ok and "models.translator.path" in resolution.detail
    (tmp_path / "config.json").write_text("{}")
    slot = ModelSlotSettings(preset="m2m100-418m", path=str(tmp_path))
    assert resolve_slot(slot, ModelsSettings(), "translator").path == tmp_path


def test_missing_engine_modules_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    detail = engine_detail("transformers")
    assert "torch" in detail and "install the hf extra" in detail


def test_configured_presets() -> None:
    settings = make_settings(
        models={"summarizer": {"preset": "distilbart-cnn"}, "translator": {"preset": "none"}}
    )
    assert [p.name for p in configured_presets(settings)] == ["distilbart-cnn"]
    assert [p.name for p in configured_presets(make_settings())] == ["m2m100-418m"]


def _started_translator(settings: Settings) -> BatchedTranslator:
    import asyncio

    translator = build_translator(settings)
    assert translator is not None

    async def go() -> None:
        try:
            await translator.start()  # never raises for a model that cannot load
        finally:
            translator.close()

    asyncio.run(go())
    return translator


def test_translator_without_the_hf_extra_says_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "transformers" else real(name, *a),
    )
    translator = _started_translator(
        Settings(models={"translator": {"preset": "m2m100-418m"}, "cache_dir": tmp_path})
    )
    assert not translator.info.ready
    assert "install the hf extra" in translator.info.detail
    assert "transformers" in translator.info.detail


def test_download_on_start_without_network_leaves_it_not_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    translator = _started_translator(
        Settings(
            models={
                "translator": {"preset": "nllb-600m"},
                "cache_dir": tmp_path,
                "download_on_start": True,
            }
        )
    )
    assert not translator.info.ready
    assert translator.info.detail.startswith("model facebook/nllb-200-distilled-600M is not")


def test_a_summariser_preset_is_not_a_translator() -> None:
    with pytest.raises(ValueError, match="summarizer preset"):
        build_translator(Settings(models={"translator": {"preset": "distilbart-cnn"}}))


def test_a_slot_set_only_through_the_environment_keeps_its_role_preset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSBRIEF_MODELS__TRANSLATOR__PATH", "/models/m2m100")
    monkeypatch.setenv("NEWSBRIEF_MODELS__SUMMARIZER__THREADS", "2")
    from newsbrief.service.settings import Settings

    models = Settings().models
    assert (models.translator.preset, models.translator.path) == ("m2m100-418m", "/models/m2m100")
    assert (models.summarizer.preset, models.summarizer.threads) == ("extractive", 2)
