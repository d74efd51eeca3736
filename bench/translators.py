"""Translators that exist only for the benchmark, behind the service's ``Translator`` Protocol.

- :class:`NaiveTranslator`: the baseline, a loop that calls ``generate()`` once per text of each
  request, fp32 torch, on one worker thread (no batching across requests, none within a
  request).
- :class:`NoopEngine`: a blocking engine that returns its input, served like the real engines
  through the micro-batcher (:func:`noop_batched`); :class:`NoopTranslator` returns its input
  with no batcher at all. Together they measure what the service costs around an engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.batching import BatchedTranslator
from newsbrief.service.models.protocols import Translated
from newsbrief.service.models.worker import ModelWorker
from newsbrief.service.settings import BatchingSettings

log = logging.getLogger(__name__)

M2M100_LANGS = ("en", "ko", "ms", "id")


def _noop_info() -> ModelInfo:
    return ModelInfo(
        role="translator",
        id="noop",
        revision="bench",
        licence="n/a",
        languages=M2M100_LANGS,
        ready=True,
        backend="noop",
    )


class NoopEngine:
    """A blocking translation engine that returns its input."""

    max_input_tokens = 1024

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        return Translated(list(texts))


def noop_batched(settings: BatchingSettings) -> BatchedTranslator:
    """The no-op engine behind the micro-batcher, as the server runs a real engine (one
    worker); ``start()`` it like any managed model."""
    info = _noop_info()
    return BatchedTranslator(ModelWorker(info, lambda: (NoopEngine(), info)), settings, workers=1)


class NoopTranslator:
    """Returns the texts unchanged, at once (no batcher, no worker)."""

    def __init__(self) -> None:
        self._info = _noop_info()

    @property
    def info(self) -> ModelInfo:
        return self._info

    def supports(self, source: str, target: str) -> bool:
        return source in M2M100_LANGS and target in M2M100_LANGS

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        return Translated(list(texts))

    def close(self) -> None:
        pass


class NaiveTranslator:
    """fp32 torch ``generate()`` once per text, texts and requests one after another."""

    def __init__(self, model_dir: Path, *, new_tokens: int, threads: int = 2) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        torch.set_num_threads(threads)
        self._torch = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
        self._model: Any = AutoModelForSeq2SeqLM.from_pretrained(
            model_dir, dtype=torch.float32
        ).eval()
        self._new_tokens = new_tokens
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="naive-generate")
        self._info = ModelInfo(
            role="translator",
            id=f"naive:{model_dir.name}",
            revision="random-weights",
            licence="n/a",
            languages=M2M100_LANGS,
            ready=True,
            backend="naive-torch-fp32",
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def supports(self, source: str, target: str) -> bool:
        return source in M2M100_LANGS and target in M2M100_LANGS

    def _generate_one(self, text: str, source: str, target: str) -> str:
        tok = self._tokenizer
        tok.src_lang = source
        enc = tok(text, return_tensors="pt")
        with self._torch.inference_mode():
            out = self._model.generate(
                **enc,
                forced_bos_token_id=tok.get_lang_id(target),
                min_new_tokens=self._new_tokens,
                max_new_tokens=self._new_tokens,
                num_beams=1,
                do_sample=False,
            )
        return str(tok.decode(out[0], skip_special_tokens=True))

    def warm_up(self) -> None:
        """One short generate, so first-call allocations are not in the measurements."""
        self._generate_one("Warm-up sentence.", "en", "ko")

    def _loop(self, texts: list[str], source: str, target: str) -> list[str]:
        return [self._generate_one(t, source, target) for t in texts]

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> Translated:
        """The naive loop ignores deadlines: it does what it is given, in order."""
        loop = asyncio.get_running_loop()
        return Translated(
            await loop.run_in_executor(self._worker, self._loop, texts, source, target)
        )

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
