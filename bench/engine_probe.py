"""Row 2: one engine, alone in its own process, so its peak RSS is honest.

``python -m bench.engine_probe --engine torch|ct2 --model DIR --new-tokens N`` loads the model,
runs newsbrief's engine for it (``HFTranslationEngine`` fp32 or ``CT2TranslationEngine`` int8),
translates the same English sentences into Korean at batch 1, 8 and 16 with the decode length
forced (exactly N new tokens, the forced language token included), and prints one JSON object:
load time, tokens/s and seconds per batch, and the peak RSS after each phase (VmHWM).
With ``--replicas R`` (CTranslate2 only) it then loads the engine as a server does with
``inter_threads`` R and gives each replica a batch of ``--in-flight``/R texts at once: the texts
per second of that layout with nothing but the engine running, the most a server in it can answer.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SENTENCES = [
    "The city council on Tuesday approved a plan to turn the disused riverside freight yard "
    "into a 12-hectare public park, ending a two-year debate over the site.",
    "The plan, backed by 9 of the 13 councillors, sets aside 45 million dollars for the first "
    "phase of construction, which is due to start in March.",
    "Mayor Helen Ortiz said the park would give residents of the eastern districts their "
    "first large green space.",
    "Opponents had argued that the land should be used for affordable housing.",
    "The first phase includes walking paths, a playground and a flood-control wetland "
    "designed to protect nearby streets during heavy rain.",
    "Construction is expected to take three years, and the council will vote on the second "
    "phase next spring.",
    "Councillor David Brennan, who voted against the plan, said the city was choosing lawns "
    "over homes.",
    "This is the biggest change to the riverfront in a generation, she said.",
]


def numbered(i: int) -> str:
    """One of :data:`SENTENCES` made unique by ``i``, as row 6's requests are (LibreTranslate
    answers a repeat of the previous text of a language pair from memory, newsbrief from its
    translation cache)."""
    base = SENTENCES[i % len(SENTENCES)]
    return f"In report {i}, {base[0].lower()}{base[1:]}"


def memory_kb() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in KiB, from /proc."""
    out: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


def _engine_args(new_tokens: int, beam: int = 1) -> dict[str, Any]:
    from newsbrief.service.models.presets import Decoding, get_preset

    preset = get_preset("m2m100-418m")
    return {
        "family": preset.family,
        "codes": {lang: preset.code(lang) or "" for lang in preset.languages},
        "decoding": Decoding(num_beams=beam, max_new_tokens=new_tokens, min_new_tokens=new_tokens),
        "max_input_tokens": preset.max_input_tokens,
    }


class TorchEngine:
    """newsbrief's transformers engine (``HFTranslationEngine``), fp32."""

    def __init__(self, model_dir: Path, threads: int, new_tokens: int, beam: int = 1) -> None:
        import torch

        from newsbrief.service.models.hf.translate import HFTranslationEngine

        torch.set_num_threads(threads)
        self.engine = HFTranslationEngine.load(model_dir, **_engine_args(new_tokens, beam))

    def run(self, texts: list[str]) -> int:
        """Translate en -> ko; returns the number of generated tokens (forced token included)."""
        output = self.engine.generate(self.engine.prepare(texts, "en", "ko"))
        self.engine.finish(output)
        return int(output.shape[0] * (output.shape[1] - 1))  # minus the decoder start token


class CT2Engine:
    """newsbrief's CTranslate2 engine (``CT2TranslationEngine``), int8, torch never imported;
    ``replicas`` batches at once (``inter_threads``), each on ``threads`` threads."""

    def __init__(
        self, model_dir: Path, threads: int, new_tokens: int, beam: int = 1, replicas: int = 1
    ) -> None:
        from newsbrief.service.models.ct2.translate import CT2TranslationEngine

        self.engine = CT2TranslationEngine.load(
            model_dir,
            **_engine_args(new_tokens, beam),
            compute_type="int8",
            inter_threads=replicas,
            intra_threads=threads,
        )

    def run(self, texts: list[str]) -> int:
        hypotheses = self.engine.generate(self.engine.prepare(texts, "en", "ko"))
        self.engine.finish(hypotheses)
        return sum(len(h) for h in hypotheses)


def probe(
    engine: str,
    model_dir: Path,
    new_tokens: int,
    threads: int,
    reps: int,
    beam: int = 1,
    texts: list[str] = SENTENCES,
    rounds: int = 1,
) -> dict[str, Any]:
    """Tokens/s and CPU per text at batch 1 (``reps`` texts one by one), 8 and 16; with
    ``rounds`` > 1, each batch of 8 and 16 is run once untimed and then timed ``rounds`` times,
    the fastest kept."""
    t0 = time.monotonic()
    runner: TorchEngine | CT2Engine = (
        TorchEngine(model_dir, threads, new_tokens, beam)
        if engine == "torch"
        else CT2Engine(model_dir, threads, new_tokens, beam)
    )
    import sys

    result: dict[str, Any] = {
        "engine": engine,
        "torch_imported": "torch" in sys.modules,
        "threads": threads,
        "beam": beam,
        "load_s": time.monotonic() - t0,
        "rss_after_load_kb": memory_kb()["VmRSS"],
    }
    runner.run(texts[:2])  # warm-up: first-call allocations
    for batch in (1, 8, 16):
        batch_texts = (texts * 2)[:batch]
        if batch > 1 and rounds > 1:
            runner.run(batch_texts)  # this size's own first-call allocations, untimed
        timed: list[tuple[float, float, int]] = []
        for _ in range(1 if batch == 1 else rounds):
            tokens = 0
            started, cpu_started = time.monotonic(), time.process_time()
            for i in range(reps if batch == 1 else 1):
                tokens += runner.run(batch_texts if batch > 1 else [texts[i % len(texts)]])
            timed.append((time.monotonic() - started, time.process_time() - cpu_started, tokens))
        seconds, cpu_s, tokens = min(timed)  # the least disturbed round
        texts_done = batch * (reps if batch == 1 else 1)
        mem = memory_kb()
        result[f"b{batch}"] = {
            "batch": batch,
            "batches": reps if batch == 1 else 1,
            "rounds": len(timed),
            "tokens": tokens,
            "seconds": seconds,
            "tokens_per_s": tokens / seconds,
            "tokens_per_seq": tokens / texts_done,
            "cpu_s_per_text": cpu_s / texts_done,
            "peak_rss_kb": mem["VmHWM"],
        }
    return result


def probe_layout(
    runner: CT2Engine, replicas: int, in_flight: int, texts: list[str], rounds: int = 2
) -> dict[str, Any]:
    """``runner`` loaded in a server's layout (``replicas`` batches at once), given
    ``in_flight`` texts shared out as one batch per replica, all replicas at once; the fastest
    of ``rounds``."""
    share = max(in_flight // replicas, 1)
    done = share * replicas
    batches = [[texts[(k * share + i) % len(texts)] for i in range(share)] for k in range(replicas)]
    runner.run(texts[:2])
    points: list[dict[str, Any]] = []
    with ThreadPoolExecutor(replicas) as pool:
        for _ in range(rounds):
            started, cpu_started = time.monotonic(), time.process_time()
            tokens = list(pool.map(runner.run, batches))
            seconds = time.monotonic() - started
            cpu_s = time.process_time() - cpu_started
            points.append(
                {
                    "replicas": replicas,
                    "texts": done,
                    "seconds": seconds,
                    "texts_per_s": done / seconds,
                    "tokens_per_seq": sum(tokens) / done,
                    "cpu_s_per_text": cpu_s / done,
                }
            )
    return max(points, key=lambda p: p["texts_per_s"]) | {"rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("torch", "ct2"), required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    parser.add_argument("--reps", type=int, default=2, help="batch-1 translations to time")
    parser.add_argument(
        "--replicas", type=int, default=0, help="then the layout probe with this inter_threads"
    )
    parser.add_argument("--in-flight", type=int, default=16, help="texts at once (layout probe)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="timed rounds of each batch of 8 and 16 (after an untimed one when > 1), fastest "
        "kept; the layout probe runs at least 2",
    )
    parser.add_argument(
        "--numbered", action="store_true", help="the sentences made unique as row 6's requests"
    )
    args = parser.parse_args()
    texts = [numbered(4_000_000 + i) for i in range(16)] if args.numbered else SENTENCES
    result = probe(
        args.engine,
        args.model,
        args.new_tokens,
        args.threads,
        args.reps,
        args.beam,
        texts,
        args.rounds,
    )
    result["texts"] = "numbered" if args.numbered else "plain"
    if args.replicas and args.engine == "ct2":
        runner = CT2Engine(
            args.model, args.threads, args.new_tokens, args.beam, replicas=args.replicas
        )
        layout = probe_layout(
            runner, args.replicas, args.in_flight, texts, rounds=max(2, args.rounds)
        )
        result["layout"] = layout | {"threads": args.threads}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
