"""Operations settings: the models folder of a container, and the per-replica quota share."""

from __future__ import annotations

from pathlib import Path

from newsbrief.service.settings import Settings


def test_models_dir_holds_the_hub_cache_and_the_converted_models() -> None:
    s = Settings(models_dir=Path("/models"))
    assert s.models.cache_dir == Path("/models/hf/hub")  # HF_HOME=/models/hf keeps the same
    assert s.models.ct2_dir == Path("/models/ct2")


def test_explicit_model_folders_win_over_models_dir() -> None:
    s = Settings(models_dir=Path("/models"), models={"ct2_dir": "/fast/ct2"})
    assert s.models.ct2_dir == Path("/fast/ct2")
    assert s.models.cache_dir == Path("/models/hf/hub")


def test_without_models_dir_nothing_moves() -> None:
    s = Settings()
    assert s.models.cache_dir is None and s.models.ct2_dir == Path("models/ct2")
