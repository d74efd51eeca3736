"""What the tiny test checkpoints (``tests/model``) and the benchmark's random-weight checkpoints
(``bench/models.py``) share: tokenizers trained in a second on generated text, and the
dimensions of a tiny encoder-decoder. No import of sentencepiece, tokenizers or torch at module
level: the benchmark imports this module without the model extras."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TINY_SEQ2SEQ: dict[str, Any] = {
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
}
"""The size of the tiny BART-style checkpoints (``M2M100Config``, ``BartConfig``)."""
TINY_T5: dict[str, Any] = {
    "d_model": 32,
    "d_ff": 64,
    "num_layers": 1,
    "num_decoder_layers": 1,
    "num_heads": 2,
}
"""The size of the tiny T5-style checkpoints (``T5Config``, ``MT5Config``; ``d_kv`` apart)."""


def _train_spm(sentences: Iterable[str], prefix: Path, vocab_size: int, **settings: Any) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        # a small corpus caps the vocabulary: take what it gives
        hard_vocab_limit=False,
        minloglevel=2,
        **settings,
    )
    return prefix.parent / f"{prefix.name}.model"


def train_bpe(sentences: Iterable[str], prefix: Path, vocab_size: int) -> Path:
    """A BPE sentencepiece model (unk=0, bos=1, eos=2, no pad; every character covered), as
    M2M100 and NLLB use. Returns the .model path."""
    return _train_spm(
        sentences,
        prefix,
        vocab_size,
        model_type="bpe",
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        character_coverage=1.0,
    )


def train_t5_unigram(sentences: Iterable[str], prefix: Path, vocab_size: int, **extra: Any) -> Path:
    """A T5-style unigram model (pad=0, eos=1, unk=2, no bos), as mT5 and MADLAD use. Returns
    the .model path."""
    return _train_spm(
        sentences,
        prefix,
        vocab_size,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        **extra,
    )


def train_byte_bpe(
    sentences: Iterable[str], folder: Path, vocab_size: int, special_tokens: list[str]
) -> tuple[dict[str, int], list[tuple[str, ...]]]:
    """A byte-level BPE vocabulary and its merges (BART's tokenizer) trained on ``sentences``;
    ``vocab.json`` and ``merges.txt`` are written to ``folder`` too."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        sentences,
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=special_tokens,
        show_progress=False,
    )
    bpe.save_model(str(folder))
    vocab: dict[str, int] = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    merges = [
        tuple(line.split())
        for line in (folder / "merges.txt").read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    ]
    return vocab, merges
