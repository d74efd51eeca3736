"""What both transformers engines hold and how they open a model: the model and tokenizer from
a local directory (``from_pretrained``, never the network), the decoding, the device, a lock that
serialises calls and torch's threads (set once in each calling thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsbrief.service.models.hf.threads import TorchThreads
from newsbrief.service.models.presets import Decoding, Preset, get_preset
from newsbrief.service.models.resolve import Resolution, engine_detail
from newsbrief.service.models.worker import ModelUnavailable
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

Resolve = Callable[[ModelSlotSettings, ModelsSettings, str], Resolution]


def open_slot(
    slot: ModelSlotSettings, models: ModelsSettings, resolve: Resolve
) -> tuple[Preset, Resolution, Decoding]:
    """The slot's preset, its model as ``resolve`` finds it (with or without a download), and
    its decoding (the preset's with the slot's overrides). Raises :class:`ModelUnavailable`
    when transformers is not installed."""
    preset = get_preset(slot.preset)
    missing = engine_detail("transformers")
    if missing:
        raise ModelUnavailable(missing)
    resolution = resolve(slot, models, preset.role)
    return preset, resolution, preset.decoding.merged(slot.decoding)


def from_pretrained(path: str | Path) -> tuple[Any, Any]:
    """The tokenizer and the model (in eval mode, on the CPU) saved in ``path``."""
    import transformers
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
    model.eval()
    return tokenizer, model


@dataclass(kw_only=True, eq=False, repr=False)
class HFEngine:
    """A loaded seq2seq model. Blocking: callers hold ``_lock``, and call
    ``_torch_threads.ensure()`` before running the model."""

    model: Any
    tokenizer: Any
    decoding: Decoding
    #: the longest input in tokens
    max_input_tokens: int
    device: str = "cpu"
    threads: int = 0
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _torch_threads: TorchThreads = field(init=False)

    def __post_init__(self) -> None:
        self._torch_threads = TorchThreads(self.threads)
