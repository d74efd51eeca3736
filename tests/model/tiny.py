"""Sentencepiece models for the tiny test checkpoints, trained in a second on generated text."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def train_t5_unigram(sentences: Iterable[str], prefix: Path, vocab_size: int, **extra: Any) -> Path:
    """A T5-style unigram model (pad=0, eos=1, unk=2, no bos), as mT5 and MADLAD use. A small
    corpus caps a unigram vocabulary, hence ``hard_vocab_limit=False``. Returns the .model path."""
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
        **extra,
    )
    return prefix.parent / f"{prefix.name}.model"
