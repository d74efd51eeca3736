"""The one place that chooses an engine and its batching for each model slot.

``models.<role>.engine`` picks the library (``transformers`` or ``ctranslate2``); the engine's
load function runs on a :class:`~newsbrief.service.models.worker.ModelWorker` at start-up, and
a batching adapter (:mod:`~newsbrief.service.models.batching`) puts it behind the pipeline's
Protocols: CTranslate2 runs ``inter_threads`` batches at once, torch one. Building imports
nothing heavy: torch, transformers and ctranslate2 are imported when a model loads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.batching import BatchedSummarizer, BatchedTranslator
from newsbrief.service.models.presets import Preset, get_preset
from newsbrief.service.models.protocols import SummarizationEngine, TranslationEngine
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings, Settings

E = TypeVar("E")
Load = Callable[[ModelSlotSettings, ModelsSettings, ModelInfo], tuple[E, ModelInfo]]


def slot_info(slot: ModelSlotSettings, preset: Preset) -> ModelInfo:
    """What is known of a slot's model before it loads."""
    return ModelInfo(
        role=preset.role,
        id=slot.path or preset.hub_id,
        revision=slot.revision or preset.revision,
        licence=preset.licence,
        languages=preset.languages,
        ready=False,
        backend=slot.engine,
        detail=f"model {preset.hub_id} is loading",
        parameters=preset.decoding.merged(slot.decoding).parameters(
            preset.name, preset.max_input_tokens
        ),
    )


def _worker(
    slot: ModelSlotSettings, models: ModelsSettings, preset: Preset, load: Load[E]
) -> ModelWorker[E]:
    info = slot_info(slot, preset)
    return ModelWorker(info, functools.partial(load, slot, models, info))


def _preset(slot: ModelSlotSettings, role: str) -> Preset:
    preset = get_preset(slot.preset)
    if preset.role != role:
        raise ValueError(f"models.{role}.preset={slot.preset!r} is a {preset.role} preset")
    return preset


def _workers(slot: ModelSlotSettings) -> int:
    """Batches the slot's engine runs at once: CTranslate2 ``inter_threads``, torch one."""
    return slot.inter_threads if slot.engine == "ctranslate2" else 1


def build_translator(settings: Settings) -> BatchedTranslator | None:
    """The translator the settings configure (loaded by ``await start()``), or None when
    ``models.translator.preset`` is ``none``."""
    slot = settings.models.translator
    if slot.preset == "none":
        return None
    preset = _preset(slot, "translator")
    load: Load[TranslationEngine]
    if slot.engine == "ctranslate2":
        from newsbrief.service.models.ct2.translate import load_translator as load
    else:
        from newsbrief.service.models.hf.translate import load_translator as load
    return BatchedTranslator(
        _worker(slot, settings.models, preset, load), slot.batching, workers=_workers(slot)
    )


def build_summarizer(settings: Settings) -> BatchedSummarizer | None:
    """The neural summariser the settings configure (loaded by ``await start()``), or None for
    ``extractive`` (built into the pipeline) and ``none``."""
    slot = settings.models.summarizer
    if slot.preset in ("extractive", "none"):
        return None
    preset = _preset(slot, "summarizer")
    load: Load[SummarizationEngine]
    if slot.engine == "ctranslate2":
        from newsbrief.service.models.ct2.summarize import load_summarizer as load
    else:
        from newsbrief.service.models.hf.summarize import load_summarizer as load
    return BatchedSummarizer(
        _worker(slot, settings.models, preset, load),
        slot.batching,
        name=preset.name,
        workers=_workers(slot),
    )
