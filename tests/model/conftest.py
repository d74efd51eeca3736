"""Tiny checkpoints of the real classes, built once per test session with no network.

A sentencepiece BPE model is trained in well under a second on generated English, Korean and
Malay text; from it:

- ``nllb_checkpoint``: ``M2M100ForConditionalGeneration`` with an ``NllbTokenizer`` whose language
  codes are passed as extra special tokens (the ``.model`` file is copied beside it:
  ``save_pretrained`` does not write it);
- ``m2m100_checkpoint``: the same model class with an ``M2M100Tokenizer`` (vocab.json + the
  sentencepiece model) with every ``__xx__`` language token registered, so ``len(tokenizer)``
  counts them and the model is sized to fit;
- ``madlad_checkpoint``: ``T5ForConditionalGeneration`` + ``T5Tokenizer`` (unigram model) whose
  ``<2xx>`` target tags are pieces, as in MADLAD-400.

Both are written with ``save_pretrained`` and loaded by the tests through the same
``from_pretrained`` path as production. Random weights translate into junk: tests assert
structure, language tokens, counts and errors, never text. Nothing here touches the network:
``HF_HUB_OFFLINE=1`` is set for the whole session before huggingface_hub is imported.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.model.tiny import TINY_SEQ2SEQ, TINY_T5, train_bpe, train_t5_unigram

os.environ["HF_HUB_OFFLINE"] = "1"  # before any huggingface_hub import
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# looked up, not imported: every process of a parallel run collects these modules, and torch and
# transformers take seconds to import; a test imports them when it needs them
for _package, _why in (
    ("torch", "the hf extra (torch)"),
    ("transformers", "the hf extra (transformers)"),
    ("sentencepiece", "sentencepiece"),
):
    if importlib.util.find_spec(_package) is None:
        pytest.skip(f"model tests need {_why}", allow_module_level=True)

NLLB_CODES = ["eng_Latn", "kor_Hang", "zsm_Latn", "ind_Latn"]
MADLAD_TAGS = ["<2en>", "<2ko>", "<2ms>", "<2id>"]


def _words(text: str) -> list[str]:
    return text.split()


_EN = _words(
    "the council approved a new park on tuesday it will cost 45 million dollars said mayor "
    "lee residents welcomed the plan which includes trees paths and a playground near the river"
)
_KO = _words(
    "시의회는 화요일 새 공원을 승인했다 비용은 4500만 달러라고 이 시장이 말했다 주민들은 "
    "나무와 산책로 놀이터를 포함한 계획을 환영했다"
)
_MS = _words(
    "majlis bandaran meluluskan taman baharu pada hari selasa kos sebanyak 45 juta dolar kata "
    "datuk bandar penduduk mengalu-alukan rancangan itu termasuk pokok laluan dan taman permainan"
)


def _corpus(lines: int = 3000, seed: int = 0) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        words = rng.choice([_EN, _KO, _MS])
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        number = rng.choice(["", f" {rng.randint(0, 2030)}", f" {rng.randint(1, 999)},000"])
        out.append(sentence.capitalize() + number + rng.choice([".", "!", "?", ","]))
    return "\n".join(out)


@pytest.fixture(scope="session")
def spm_bpe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BPE sentencepiece model (unk=0, bos=1, eos=2) on generated en/ko/ms text."""
    return train_bpe(_corpus().splitlines(), tmp_path_factory.mktemp("spm") / "bpe", 600)


def _tiny_m2m100(vocab_size: int, pad: int, **overrides: Any) -> Any:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=vocab_size,
        **TINY_SEQ2SEQ,
        max_position_embeddings=256,
        pad_token_id=pad,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        **overrides,
    )
    return M2M100ForConditionalGeneration(config).eval()


@pytest.fixture(scope="session")
def nllb_checkpoint(spm_bpe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NLLB-style checkpoint: M2M100 model + NllbTokenizer with its language codes."""
    from transformers import NllbTokenizer

    folder = tmp_path_factory.mktemp("tiny-nllb")
    shutil.copy(spm_bpe, folder / "sentencepiece.bpe.model")
    tokenizer = NllbTokenizer.from_pretrained(str(folder), extra_special_tokens=NLLB_CODES)
    ids = [tokenizer.convert_tokens_to_ids(code) for code in NLLB_CODES]
    assert tokenizer.unk_token_id not in ids, ids  # the trap: codes silently become <unk>
    model = _tiny_m2m100(len(tokenizer), tokenizer.pad_token_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def m2m100_checkpoint(spm_bpe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An M2M100 checkpoint: M2M100Tokenizer (vocab.json + spm) with every ``__xx__`` token
    registered, and a model sized to fit them (plus the tokenizer's made-up words)."""
    import sentencepiece as spm
    from transformers import M2M100Tokenizer
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    folder = tmp_path_factory.mktemp("tiny-m2m100")
    shutil.copy(spm_bpe, folder / "sentencepiece.bpe.model")
    sp = spm.SentencePieceProcessor(model_file=str(spm_bpe))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    codes = [f"__{c}__" for c in FAIRSEQ_LANGUAGE_CODES["m2m100"]]
    tokenizer = M2M100Tokenizer(
        vocab_file=str(folder / "vocab.json"),
        spm_file=str(folder / "sentencepiece.bpe.model"),
        src_lang="en",
        tgt_lang="ko",
        additional_special_tokens=codes,
    )
    assert tokenizer.convert_tokens_to_ids("__ko__") == tokenizer.get_lang_id("ko")
    model = _tiny_m2m100(len(tokenizer) + tokenizer.num_madeup_words, tokenizer.pad_token_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def madlad_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MADLAD-400-style checkpoint: ``T5ForConditionalGeneration`` + ``T5Tokenizer`` on a
    unigram sentencepiece model (pad=0, eos=1, unk=2) whose ``<2xx>`` target tags are pieces."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    folder = tmp_path_factory.mktemp("tiny-madlad")
    train_t5_unigram(
        _corpus().splitlines(), folder / "spiece", 500, user_defined_symbols=MADLAD_TAGS
    )
    tokenizer = T5Tokenizer.from_pretrained(str(folder))
    torch.manual_seed(0)
    start: dict[str, Any] = {"decoder_start_token_id": 0}  # taken, not declared, by T5Config
    config = T5Config(
        vocab_size=len(tokenizer),
        **TINY_T5,
        d_kv=16,
        pad_token_id=0,
        eos_token_id=1,
        **start,
    )
    T5ForConditionalGeneration(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def install_in_hf_cache(checkpoint: Path, cache_dir: Path, repo_id: str, revision: str) -> Path:
    """Lay ``checkpoint`` out as the Hugging Face cache holds a downloaded snapshot
    (``models--org--name/snapshots/<commit>/`` plus ``refs/main``)."""
    repo = cache_dir / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True, exist_ok=True)
    for item in checkpoint.iterdir():
        if item.is_file():
            shutil.copy(item, snapshot / item.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision, encoding="utf-8")
    return snapshot


def tiny_translator_settings(path: Path | str, preset: str = "m2m100-418m", **slot: Any) -> dict:
    """``models`` settings for a translator slot on a tiny checkpoint: greedy and short, so a
    brief translates in milliseconds."""
    return {
        "translator": {
            "preset": preset,
            "path": str(path),
            "threads": 1,
            "decoding": {"num_beams": 1, "max_new_tokens": 8},
            **slot,
        }
    }
