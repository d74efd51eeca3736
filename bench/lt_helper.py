"""Run with LibreTranslate's own venv (``bench/out/libretranslate/venv``), never the project's:
it imports only the standard library and what that venv holds (onnx, argostranslate,
libretranslate).

``python bench/lt_helper.py sbd OUT.onnx``
    Writes the sentence splitter an argos package carries in ``minisbd/<lang>.onnx`` (without one
    it downloads one on first use, which fails offline). This one predicts no boundary inside a
    paragraph (MiniSBD closes the paragraph's last sentence itself), so every request's text is
    one sentence: the benchmark sends one sentence per request, and LibreTranslate's splitting
    costs it only a tiny ONNX Runtime call.

``python bench/lt_helper.py serve --new-tokens N -- LIBRETRANSLATE ARGS``
    Starts LibreTranslate with the decode length forced to exactly N tokens (the target-language
    prefix included): random weights never emit an end token, and newsbrief is run with
    min = max new tokens, so both servers generate the same number of tokens. Argos calls
    ``ctranslate2.Translator.translate_batch`` without a length; the wrapper below adds
    ``min_decoding_length = max_decoding_length = N`` and changes nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def write_sbd(path: str) -> None:
    import onnx
    from onnx import TensorProto, helper

    # logits [batch, chars, 5] = 0 for every class: argmax 0 ("no boundary") everywhere
    zeros = helper.make_tensor("zeros", TensorProto.FLOAT, [5], [0.0] * 5)
    nodes = [
        helper.make_node("Cast", ["units"], ["units_f"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["axes"], value_ints=[2]),
        helper.make_node("Unsqueeze", ["units_f", "axes"], ["units_3d"]),
        helper.make_node("Mul", ["units_3d", "zeros"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "no-split",
        [
            helper.make_tensor_value_info("units", TensorProto.INT64, ["batch", "chars"]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "chars", None]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "chars", 5])],
        initializer=[zeros],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    vocab = {
        "lang": "en",
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_unit2id": {"<PAD>": 0, "<UNK>": 1},
        "_id2unit": ["<PAD>", "<UNK>"],
    }
    config = {"max_seqlen": 1000, "batch_size": 32, "feat_funcs": [], "skip_newline": False}
    for key, value in (
        ("lang_code", "en"),
        ("config", json.dumps(config)),
        ("vocab", json.dumps(vocab)),
    ):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)


def serve(new_tokens: int, lt_args: list[str]) -> None:
    import argostranslate.translate as argos
    import ctranslate2

    class ForcedLength:
        """``ctranslate2.Translator`` with every decode forced to ``new_tokens`` tokens."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._translator = ctranslate2.Translator(*args, **kwargs)

        def translate_batch(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["max_decoding_length"] = new_tokens
            kwargs["min_decoding_length"] = new_tokens
            return self._translator.translate_batch(*args, **kwargs)

    class Module:
        Translator = ForcedLength

    argos.ctranslate2 = Module  # argos builds its translator as ctranslate2.Translator(...)
    from libretranslate.main import main

    sys.argv = ["libretranslate", *lt_args]
    main()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sbd = sub.add_parser("sbd")
    sbd.add_argument("out")
    run = sub.add_parser("serve")
    run.add_argument("--new-tokens", type=int, required=True)
    run.add_argument("lt_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "sbd":
        write_sbd(args.out)
    else:
        rest = args.lt_args[1:] if args.lt_args[:1] == ["--"] else args.lt_args
        serve(args.new_tokens, rest)


if __name__ == "__main__":
    main()
