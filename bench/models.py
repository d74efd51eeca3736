"""Random-weight checkpoints with the real shapes of the default presets, for the benchmark.

No weights can be fetched here, so the benchmark measures speed on the published architectures
with random weights: ``facebook/m2m100_418M``'s config (12+12 layers, d_model 1024, FFN 4096,
16 heads, vocabulary 128,112). The tokenizer is a small BPE sentencepiece model trained in a
second on generated English/Korean/Malay text; its ``vocab.json`` is padded with filler entries
so that, with the 100 registered ``__xx__`` language tokens and the 8 made-up words, the
tokenizer's vocabulary is exactly the model's (otherwise a language code could silently become
the unknown token). Output is junk; the decode length is forced (min = max new tokens) so every
engine does the same work.

``python -m bench.models`` builds what is missing under ``bench/out/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.model.tiny import train_bpe, train_byte_bpe, train_t5_unigram

log = logging.getLogger(__name__)

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
REPO = BENCH_DIR.parent

# facebook/m2m100_418M config.json (published hyper-parameters).
M2M100_418M: dict[str, Any] = {
    "vocab_size": 128112,
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 12,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
    "activation_function": "relu",
    "scale_embedding": True,
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "activation_dropout": 0.0,
    "encoder_layerdrop": 0.05,
    "decoder_layerdrop": 0.05,
    "init_std": 0.02,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "decoder_start_token_id": 2,
    "tie_word_embeddings": True,
}
# facebook/nllb-200-distilled-600M: M2M100's architecture with NLLB's 256,206-word vocabulary
# (all other hyper-parameters are equal). Built with the same M2M100-style tokenizer (``__xx__``
# language tokens, vocab.json padded to that size): the engines do the same work per token as
# on the real model; only the names of the language tokens differ.
NLLB_600M = M2M100_418M | {"vocab_size": 256206}
NUM_LANGUAGE_TOKENS = 100  # M2M100Tokenizer's "m2m100" language code table
NUM_MADEUP_WORDS = 8
SPM_VOCAB = 1000
SEED = 1234


@dataclass(frozen=True)
class BenchModels:
    """Where the benchmark checkpoints are."""

    hf_dir: Path
    ct2_dir: Path | None
    parameters: int
    build_s: float
    convert_s: float
    ct2_note: str


def _words(text: str) -> list[str]:
    return text.split(" ")


def _corpus() -> list[str]:
    """Generated English, Korean and Malay sentences plus the test fixtures."""
    rng = random.Random(SEED)
    lines: list[str] = []
    fixtures = REPO / "tests" / "fixtures"
    for name in ("en_article.txt", "ko_article.txt", "ms_article.txt"):
        path = fixtures / name
        if path.is_file():
            lines += [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    en = _words(
        "the council approved a new park plan on Tuesday after a long debate officials said "
        "the budget of 45 million dollars would cover the first phase residents police court "
        "minister election market price river school report"
    )
    ko = _words("시의회는 화요일 새 공원 계획을 승인했다 예산 정부 장관 선거 시장 가격 학교 보고서")
    ms = _words("majlis bandaraya meluluskan pelan taman baharu pada hari Selasa kerajaan menteri")
    for _ in range(3000):
        words = rng.choice((en, ko, ms))
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(6, 18))) + ".")
    return lines


def build_tokenizer(out: Path, vocab_size: int) -> Path:
    """Train the sentencepiece model and write ``vocab.json`` padded to the model's size."""
    import sentencepiece as spm

    out.mkdir(parents=True, exist_ok=True)
    model_file = train_bpe(_corpus(), out / "spm", SPM_VOCAB)
    proc = spm.SentencePieceProcessor(model_file=str(model_file))
    vocab: dict[str, int] = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(proc.get_piece_size()):
        piece = proc.id_to_piece(i)
        if piece not in vocab and piece not in ("<unk>", "<s>", "</s>"):
            vocab[piece] = len(vocab)
    # Pad: encoder entries + 100 language tokens + 8 made-up words = the model's vocabulary.
    target = vocab_size - NUM_LANGUAGE_TOKENS - NUM_MADEUP_WORDS
    n = 0
    while len(vocab) < target:
        vocab[f"<filler_{n}>"] = len(vocab)
        n += 1
    hf = out / "hf"
    hf.mkdir(exist_ok=True)
    (hf / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(model_file, hf / "sentencepiece.bpe.model")
    return hf


def _build_once(root: Path, make: Callable[[Path], tuple[Any, Any]]) -> tuple[Path, int, float]:
    """(folder, parameters, seconds) of the checkpoint ``make(hf)`` builds (model, tokenizer)
    in ``root/hf``, seeded; an earlier run's (with 0 s) when it built it already."""
    hf = root / "hf"
    marker = hf / ".complete"
    if marker.is_file():
        return hf, int(json.loads(marker.read_text())["parameters"]), 0.0
    started = time.monotonic()
    import torch

    torch.manual_seed(SEED)
    hf.mkdir(parents=True, exist_ok=True)
    model, tokenizer = make(hf)
    model.eval()
    model.generation_config.max_length = None
    model.save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    params = sum(p.numel() for p in model.parameters())
    seconds = time.monotonic() - started
    marker.write_text(json.dumps({"parameters": params, "build_s": seconds}))
    log.info("built %s (%d parameters) in %.1f s", hf, params, seconds)
    return hf, params, seconds


def build_m2m100(
    root: Path = OUT_DIR / "m2m100-418m", config_values: dict[str, Any] = M2M100_418M
) -> tuple[Path, int, float]:
    """Build (once) the random-weight M2M100-418M checkpoint (or another M2M100-architecture
    shape: ``config_values``); returns (dir, params, seconds)."""

    def make(hf: Path) -> tuple[Any, Any]:
        import torch
        from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer
        from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

        build_tokenizer(root, config_values["vocab_size"])
        tokenizer = M2M100Tokenizer(
            vocab_file=str(hf / "vocab.json"),
            additional_special_tokens=[f"__{c}__" for c in FAIRSEQ_LANGUAGE_CODES["m2m100"]],
            spm_file=str(hf / "sentencepiece.bpe.model"),
            src_lang="en",
            tgt_lang="ko",
            num_madeup_words=NUM_MADEUP_WORDS,
        )
        for code in ("en", "ko", "ms", "id"):
            token_id = tokenizer.get_lang_id(code)
            if token_id == tokenizer.unk_token_id:
                raise RuntimeError(f"language token __{code}__ is not registered")
        if len(tokenizer) + NUM_MADEUP_WORDS != config_values["vocab_size"]:
            raise RuntimeError(
                f"tokenizer vocabulary {len(tokenizer)} + {NUM_MADEUP_WORDS} made-up words != "
                f"model vocabulary {config_values['vocab_size']}"
            )
        with torch.no_grad():
            model = M2M100ForConditionalGeneration(M2M100Config(**config_values))
        return model, tokenizer

    return _build_once(root, make)


def convert_ct2(hf: Path, out: Path, quantization: str = "int8") -> tuple[Path, float, str]:
    """Convert to CTranslate2 (once), with the project's converter when it has one."""
    marker = out / ".complete"
    if marker.is_file():
        return out, 0.0, json.loads(marker.read_text()).get("how", "")
    if out.exists():
        shutil.rmtree(out)
    started = time.monotonic()
    try:
        from newsbrief.service.models.ct2.convert import convert_checkpoint

        convert_checkpoint(hf, out, quantization=quantization, force=True)
        how = "newsbrief.service.models.ct2.convert.convert_checkpoint"
    except ImportError as exc:
        log.info("project converter not available (%s): using ctranslate2's converter", exc)
        from ctranslate2.converters import TransformersConverter

        TransformersConverter(str(hf)).convert(str(out), quantization=quantization, force=True)
        tokenizer_dir = out / "tokenizer"
        tokenizer_dir.mkdir()
        for name in ("vocab.json", "sentencepiece.bpe.model", "tokenizer_config.json"):
            if (hf / name).is_file():
                shutil.copy(hf / name, tokenizer_dir / name)
        how = "ctranslate2.converters.TransformersConverter"
    seconds = time.monotonic() - started
    marker.write_text(json.dumps({"convert_s": seconds, "how": how}))
    return out, seconds, how


def ensure_models(with_ct2: bool = True) -> BenchModels:
    hf, params, build_s = build_m2m100()
    ct2_dir: Path | None = None
    convert_s = 0.0
    note = ""
    if with_ct2:
        try:
            ct2_dir, convert_s, note = convert_ct2(hf, hf.parent / "ct2-int8")
        except Exception as exc:  # the benchmark reports what it could not build
            note = f"CTranslate2 conversion failed: {exc}"
            log.warning(note)
    return BenchModels(hf, ct2_dir, params, build_s, convert_s, note)


def ensure_nllb() -> BenchModels:
    """The NLLB-600M-shaped checkpoint and its CTranslate2 int8 conversion (built once)."""
    hf, params, build_s = build_m2m100(OUT_DIR / "nllb-600m", NLLB_600M)
    ct2_dir, convert_s, note = convert_ct2(hf, hf.parent / "ct2-int8")
    return BenchModels(hf, ct2_dir, params, build_s, convert_s, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ct2", action="store_true", help="skip the CTranslate2 conversion")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    models = ensure_models(with_ct2=not args.no_ct2)
    print(json.dumps({k: str(v) for k, v in models.__dict__.items()}, indent=2))


if __name__ == "__main__":
    main()


# ---- summarisers: distilbart-cnn-12-6 and mT5-base (XL-Sum) shapes ----------------------------

# sshleifer/distilbart-cnn-12-6 config.json (published hyper-parameters)
DISTILBART_CNN_12_6: dict[str, Any] = {
    "vocab_size": 50264,
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 6,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
    "activation_function": "gelu",
    "scale_embedding": False,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "decoder_start_token_id": 2,
    "forced_bos_token_id": 0,
}
# csebuetnlp/mT5_multilingual_XLSum config.json (mT5-base)
MT5_BASE: dict[str, Any] = {
    "vocab_size": 250112,
    "d_model": 768,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 12,
    "num_decoder_layers": 12,
    "num_heads": 12,
    "feed_forward_proj": "gated-gelu",
    "relative_attention_num_buckets": 32,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}


def build_distilbart(root: Path = OUT_DIR / "distilbart-cnn-12-6") -> tuple[Path, int, float]:
    """Random-weight BART with distilbart-cnn-12-6's shape and a byte-level BPE tokenizer
    trained here, its ``vocab.json`` padded with filler entries to the model's vocabulary."""
    return _build_once(root, _distilbart)


def _distilbart(hf: Path) -> tuple[Any, Any]:
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizer

    special = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab, merges = train_byte_bpe(_corpus(), hf.parent, SPM_VOCAB, special)
    n = 0
    while len(vocab) < DISTILBART_CNN_12_6["vocab_size"] - 1:
        vocab[f"<filler_{n}>"] = len(vocab)
        n += 1
    vocab["<mask>"] = len(vocab)
    tokenizer = BartTokenizer(
        vocab=vocab,
        merges=merges,  # type: ignore[arg-type]  # pairs, as the tokenizer reads merges.txt
        model_max_length=1024,
    )
    if len(tokenizer) != DISTILBART_CNN_12_6["vocab_size"]:
        raise RuntimeError(f"tokenizer vocabulary {len(tokenizer)} != the model's")
    return BartForConditionalGeneration(BartConfig(**DISTILBART_CNN_12_6)), tokenizer


def build_mt5_base(root: Path = OUT_DIR / "mt5-base") -> tuple[Path, int, float]:
    """Random-weight mT5-base (the XL-Sum summariser's shape) with a unigram sentencepiece
    tokenizer trained here (pad=0, eos=1, unk=2); the converter pads the vocabulary to the
    model's with ``<extra_id_N>`` names."""
    return _build_once(root, _mt5_base)


def _mt5_base(hf: Path) -> tuple[Any, Any]:
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

    train_t5_unigram(_corpus(), hf / "spiece", SPM_VOCAB, character_coverage=1.0)
    (hf / "spiece.vocab").unlink()
    (hf / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "T5Tokenizer", "extra_ids": 0, "model_max_length": 512}),
        encoding="utf-8",
    )
    tokenizer = T5Tokenizer.from_pretrained(hf)
    # MT5Config forces tie_word_embeddings=True: the encoder's and decoder's
    # embeddings are the shared matrix, as in the real checkpoint; its output projection is its
    # own (582M parameters in all). Building with the flag off would also untie the encoder's and
    # decoder's embeddings (966M).
    model = MT5ForConditionalGeneration(MT5Config(**MT5_BASE))
    model.lm_head = torch.nn.Linear(MT5_BASE["d_model"], MT5_BASE["vocab_size"], bias=False)
    model.config.tie_word_embeddings = False
    return model, tokenizer


SUMMARIZER_SHAPES = {
    "distilbart-cnn": ("sshleifer/distilbart-cnn-12-6", build_distilbart, DISTILBART_CNN_12_6),
    "mt5-xlsum": ("csebuetnlp/mT5_multilingual_XLSum (mT5-base)", build_mt5_base, MT5_BASE),
}


def ensure_summarizer(preset: str) -> BenchModels:
    """A summariser shape (``distilbart-cnn`` or ``mt5-xlsum``) and its CT2 int8 conversion."""
    _, build, _ = SUMMARIZER_SHAPES[preset]
    hf, params, build_s = build()
    ct2_dir, convert_s, note = convert_ct2(hf, hf.parent / "ct2-int8")
    return BenchModels(hf, ct2_dir, params, build_s, convert_s, note)
