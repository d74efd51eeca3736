"""What both transformers engines hold and how they open a model: the model and tokenizer from
a local directory (``from_pretrained``, never the network), the decoding, the device, a lock that
serialises calls and torch's threads (set once in each calling thread)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from newsbrief.service.models.hf.threads import TorchThreads
from newsbrief.service.models.presets import Decoding


def from_pretrained(path: str | Path) -> tuple[Any, Any]:
    """The tokenizer and the model (in eval mode, on the CPU) saved in ``path``."""
    import transformers
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
    model.eval()
    return tokenizer, model


class HFEngine:
    """A loaded seq2seq model. Blocking: callers hold ``_lock``, and call
    ``_torch_threads.ensure()`` before running the model."""

    def __init__(
        self, model: Any, tokenizer: Any, decoding: Decoding, device: str, threads: int
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.decoding = decoding
        self.device = device
        self.threads = threads
        self._lock = threading.Lock()
        self._torch_threads = TorchThreads(threads)
