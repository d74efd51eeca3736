"""Tiny summarisation checkpoints of the real classes, built once per test session, offline.

- ``bart_checkpoint``: ``BartForConditionalGeneration`` with a byte-level BPE ``BartTokenizer``
  whose vocabulary and merges are trained here (``tokenizers``) on generated news-like text;
- ``mt5_checkpoint``: ``MT5ForConditionalGeneration`` with a ``T5Tokenizer`` built from a unigram
  sentencepiece model (pad=0, eos=1, unk=2; ``hard_vocab_limit=False``: the small corpus caps
  the vocabulary) on generated English/Korean/Indonesian text.

Both are written with ``save_pretrained`` and loaded by the engine through the production
``from_pretrained`` path. Their inputs are short (64 and 48 tokens) so that chunking is cheap to
exercise; decoding is shortened by settings. Random weights summarise into junk: tests assert
structure, counts, chunking and errors, never text.

Import the fixtures into a test module (``from tests.model.summarizers import bart_checkpoint``).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.model.tiny import TINY_SEQ2SEQ, TINY_T5, train_byte_bpe, train_t5_unigram

os.environ["HF_HUB_OFFLINE"] = "1"  # before any huggingface_hub import
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BART_MAX_INPUT = 64
MT5_MAX_INPUT = 48


def _words(text: str) -> list[str]:
    return text.split()


_EN = _words(
    "the council approved a new park on tuesday it will cost million dollars said mayor lee "
    "residents welcomed the plan which includes trees paths and a playground near the river city"
)
_KO = _words("시의회는 화요일 새 공원을 승인했다 비용은 달러라고 시장이 말했다 주민들은 환영했다")
_ID = _words("dewan kota menyetujui taman baru pada hari selasa biaya sebesar juta dolar kata wali")


def sentences(n: int, seed: int = 0, words: list[str] | None = None) -> list[str]:
    """``n`` generated sentences (capitalised, with a number now and then, full stop)."""
    rng = random.Random(seed)
    pool = words or _EN
    out = []
    for i in range(n):
        body = " ".join(rng.choice(pool) for _ in range(rng.randint(6, 12)))
        number = f" {rng.randint(2, 90)}" if i % 3 == 0 else ""
        out.append(body.capitalize() + number + ".")
    return out


def _corpus(lines: int = 1500) -> list[str]:
    rng = random.Random(1)
    out = []
    for _ in range(lines):
        words = rng.choice([_EN, _KO, _ID])
        out.append(" ".join(sentences(3, seed=rng.randint(0, 10**6), words=words)))
    return out


@pytest.fixture(scope="session")
def bart_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BART summariser directory (random weights, trained byte-level BPE)."""
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizer

    folder = tmp_path_factory.mktemp("bart")
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab, merges = train_byte_bpe(_corpus(), folder, 500, special)
    tokenizer = BartTokenizer(
        vocab=vocab,
        merges=merges,  # type: ignore[arg-type]  # pairs, as the tokenizer reads merges.txt
        model_max_length=BART_MAX_INPUT,
    )
    # as distilbart-cnn's config says; a keyword transformers takes but does not declare
    forced: dict[str, Any] = {"forced_bos_token_id": tokenizer.bos_token_id}
    return _save_seeded(
        folder / "model",
        tokenizer,
        BartForConditionalGeneration,
        BartConfig,
        **TINY_SEQ2SEQ,
        max_position_embeddings=128,
        bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        **forced,
    )


@pytest.fixture(scope="session")
def mt5_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny mT5 summariser directory (random weights, trained unigram sentencepiece)."""
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

    folder = tmp_path_factory.mktemp("mt5")
    out = folder / "model"
    out.mkdir()
    train_t5_unigram(_corpus(), out / "spiece", 400, character_coverage=1.0)
    (out / "spiece.vocab").unlink()
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {"tokenizer_class": "T5Tokenizer", "extra_ids": 0, "model_max_length": MT5_MAX_INPUT}
        ),
        encoding="utf-8",
    )
    tokenizer = T5Tokenizer.from_pretrained(out)
    return _save_seeded(
        out,
        tokenizer,
        MT5ForConditionalGeneration,
        MT5Config,
        **TINY_T5,
        d_kv=8,
        decoder_start_token_id=tokenizer.pad_token_id,
    )


def _save_seeded(out: Path, tokenizer: Any, model_cls: Any, config_cls: Any, **config: Any) -> Path:
    """Save ``tokenizer`` and a ``model_cls`` with seeded random weights, sized to the tokenizer
    and given its pad and end-of-sequence ids (``config``: the rest of ``config_cls``), in
    ``out``."""
    import torch

    model_config = config_cls(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **config,
    )
    torch.manual_seed(0)
    model_cls(model_config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
