"""The side-by-side benchmark: ``make bench`` or ``python -m bench.run``.

Builds the random-weight M2M100-418M checkpoint (and its CTranslate2 int8 conversion), then, in
one run on this machine, measures:

1. throughput and p50/p95 latency of a brief translated into Korean at 1, 4 and 16 concurrent
   clients over gRPC: newsbrief (torch engine; CTranslate2 int8 engine) against a naive baseline
   (the same server with a translator that calls ``generate()`` once per text, fp32);
2. CTranslate2 int8 against torch fp32 at batch 1 and batch 8 (tokens/s, peak RSS), each engine
   alone in its own process;
3. service overhead: the server with a no-op translator against the bare pipeline call;
4. extractive briefs per second through the server, and cache-hit latency;
5. time from start to SERVING and resident memory per loaded model;
6. a sweep of thread layouts of both servers (newsbrief: CTranslate2 inter x intra threads,
   max batch size, worker processes; LibreTranslate: argos inter x intra threads, waitress
   threads), then newsbrief's ``Translate`` RPC and translated briefs beside LibreTranslate
   (``bench/peer.py``), each in its best layout, on the same CTranslate2 int8 model, beam, forced
   length and texts, at 1, 4 and 16 clients, with the peak PSS and summed RSS of each process
   tree; the texts sent to the model per translated brief (dedup and cache);
7. abstractive briefs with the distilbart-cnn-12-6 and mT5-base shapes: CTranslate2 int8 behind
   the micro-batcher against one ``generate()`` per article (torch fp32), at 1, 4 and 16 clients.

Row 2 also runs CTranslate2 int8 on the NLLB-600M shape beside M2M100-418M.

Every server runs in its own process (one at a time) on 127.0.0.1; the load generator here is
bounded in requests and in time. Writes ``bench/RESULTS.md`` and ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.engine_probe import numbered as sentence
from bench.models import M2M100_418M, NLLB_600M, ensure_models, ensure_nllb
from bench.server import (
    ForeignLoad,
    MemoryPeaks,
    ServerProcess,
    bench_server,
    bench_server_argv,
    newsbrief_server_argv,
    process_cpu_s,
)
from newsbrief.client import AsyncClient
from tests.harness.load import LoadResult, percentile, run_load
from tests.harness.server import free_port, metric, metrics

log = logging.getLogger("bench")
_get, _num = report._get, report._num

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT = BENCH_DIR / "out"
ARTICLE = (REPO / "tests" / "fixtures" / "en_article.txt").read_text(encoding="utf-8")


@dataclass
class Plan:
    """What one run does; the defaults keep ``make bench`` under 25 minutes on 2 cores (about
    16 minutes before row 6's sweep, which adds about 5)."""

    new_tokens: int = 16
    concurrencies: tuple[int, ...] = (1, 4, 16)
    requests: dict[int, int] = field(default_factory=lambda: {1: 3, 4: 8, 16: 16})
    load_cap_s: float = 240.0
    call_timeout_s: float = 300.0
    probe_reps: int = 3
    probe_rounds: int = 2
    # row 6's probe of the engine alone: timed rounds of each batch of 8 and 16 (fastest kept)
    engine_rounds: int = 3
    overhead_requests: int = 200
    overhead_rounds: int = 3
    extractive_requests: int = 300
    extractive_concurrency: int = 8
    cache_requests: int = 200
    engines: tuple[str, ...] = ("naive", "torch", "ct2")
    torch_threads: int = 2
    ct2_intra_threads: int = 1
    ct2_inter_threads: int = 2
    # None: the project's defaults (``BatchingSettings``), which the report states
    max_batch_size: int | None = None
    max_wait_ms: float | None = None
    # row 6: newsbrief beside LibreTranslate (same model, beam, forced length, threads, texts)
    peer: bool = True
    peer_beam: int = 4
    peer_requests: dict[int, int] = field(default_factory=lambda: {1: 10, 4: 24, 16: 64})
    peer_brief_requests: dict[int, int] = field(default_factory=lambda: {1: 4, 4: 8, 16: 16})
    peer_threads: int = 16  # LibreTranslate's waitress request threads
    # row 6's sweep of thread layouts (section 6 of the report), before the comparison: each
    # point is one server started, warmed up (16 requests at 16 clients), then
    # ``sweep_requests`` at 16 clients (throughput, peak memory) and ``sweep_c1_requests`` at 1.
    # newsbrief: (CT2 inter_threads, intra_threads, max_batch_size, pipeline worker processes);
    # the worker counts of ``sweep_workers`` are then tried at the best of those.
    sweep: bool = True
    sweep_newsbrief: tuple[tuple[int, int, int, int], ...] = tuple(
        (inter, intra, batch, 2) for inter, intra in ((2, 1), (1, 2)) for batch in (4, 8, 16)
    )
    sweep_workers: tuple[int, ...] = (1,)
    # LibreTranslate: (argos inter_threads, intra_threads, waitress threads)
    sweep_libretranslate: tuple[tuple[int, int, int], ...] = tuple(
        (inter, intra, threads) for inter, intra in ((2, 1), (1, 2)) for threads in (4, 16)
    )
    sweep_requests: int = 48
    sweep_c1_requests: int = 3
    sweep_tie: float = 0.05  # throughputs within this share of the best are a tie
    sweep_only: bool = False  # row 6 runs its sweep and not the comparison
    rows: tuple[int, ...] = (1, 2, 3, 4, 6, 7)
    # row 7: abstractive briefs (CT2 int8, micro-batched) beside naive per-article generate()
    summarizers: tuple[str, ...] = ("distilbart-cnn", "mt5-xlsum")
    summary_tokens: int = 32  # the naive torch loop takes 5-15 s per article at 32 (2 cores)
    summary_requests: dict[int, int] = field(default_factory=lambda: {1: 2, 4: 4, 16: 16})
    nllb: bool = True  # row 2 also probes CT2 int8 on the NLLB-600M shape
    quick: bool = False


def article(i: int) -> str:
    """The English fixture made unique (so no cache or sentence reuse can hide work): the
    headline, summary sentence and key point of its 1-sentence brief all name district ``i``."""
    return ARTICLE.replace(
        "The city council on Tuesday", f"The city council of district {i} on Tuesday", 1
    ).replace(
        "for the first phase of construction",
        f"for the first phase of construction in district {i}",
        1,
    )


BRIEF_OPTIONS: dict[str, Any] = {"max_sentences": 1, "max_key_points": 1}
# row 1 translates every brief into both target languages of the mission
ROW1_LANGUAGES = ["ko", "ms"]


def machine(probes: bool = True) -> dict[str, Any]:
    model = ""
    flags: set[str] = set()
    siblings = cores_per_socket = 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
                elif line.startswith("siblings") and not siblings:
                    siblings = int(line.split(":", 1)[1])
                elif line.startswith("cpu cores") and not cores_per_socket:
                    cores_per_socket = int(line.split(":", 1)[1])
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem_kb = int(fh.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    versions: dict[str, str] = {}
    for name in ("torch", "transformers", "ctranslate2", "grpc"):
        try:
            from importlib.metadata import version

            versions[name] = version("grpcio" if name == "grpc" else name)
        except Exception:
            versions[name] = "absent"
    return {
        "memory_bandwidth_gbs": memory_bandwidth_gbs() if probes else None,
        "fp32_gemm_gflops": fp32_gemm_gflops() if probes else None,
        "cpu_model": model,
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "threads_per_core": siblings // cores_per_socket if cores_per_socket else None,
        "simd": sorted(f for f in flags if f.startswith(("avx512_vnni", "avx512f", "avx2", "amx"))),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def memory_bandwidth_gbs(mib: int = 256, reps: int = 5) -> float | None:
    """Best of ``reps`` copies of a ``mib`` MiB array, bytes read + written per second (GB/s)."""
    try:
        import numpy as np
    except ImportError:
        return None
    a = np.ones(mib * 1024 * 1024 // 8)
    b = np.empty_like(a)
    best = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = max(best, 2 * a.nbytes / (time.perf_counter() - t0) / 1e9)
    return round(best, 1)


def fp32_gemm_gflops(n: int = 2048, reps: int = 5) -> float | None:
    """Best of ``reps`` n x n float32 matrix products with numpy's BLAS (all cores), GFLOP/s."""
    try:
        import numpy as np
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    best = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return round(best, 1)


def decode_step_weights(config: dict[str, Any]) -> int:
    """Weights read per greedy decode step of an M2M100-style decoder: per layer self-attention
    (4 d^2), cross-attention Q and O (2 d^2: K/V of the encoder output are cached) and the FFN
    (2 d ffn), plus the output projection (vocab x d)."""
    d, ffn = config["d_model"], config["decoder_ffn_dim"]
    return int(config["decoder_layers"] * (6 * d * d + 2 * d * ffn) + config["vocab_size"] * d)


# ---- row 2: engines alone ------------------------------------------------------------------


def probe_engine(
    engine: str, model_dir: Path, plan: Plan, beam: int = 1, threads: int = 2, replicas: int = 0
) -> dict[str, Any]:
    """Row 2's probe of one engine (``torch`` or ``ct2``; ``ct2-nllb``: CT2 on the NLLB-shaped
    model) in its own process, on ``threads`` threads; with ``replicas`` (row 6), on row 6's
    numbered sentences, then the engine in a server's layout (that many replicas of
    ``threads``) given 16 texts at once."""
    kind = engine.split("-")[0]
    argv = [
        sys.executable,
        "-m",
        "bench.engine_probe",
        "--engine",
        kind,
        "--model",
        str(model_dir),
        "--new-tokens",
        str(plan.new_tokens),
        "--threads",
        str(threads),
        "--reps",
        str(plan.probe_reps),
        "--beam",
        str(beam),
        "--replicas",
        str(replicas),
    ] + (["--numbered", "--rounds", str(plan.engine_rounds)] if replicas else [])
    env = {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_OFFLINE": "1"}
    load = ForeignLoad([os.getpid()], children=True)
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        return {"engine": engine, "error": done.stderr.strip().splitlines()[-5:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1])) | {"cpu": load.result()}


def best_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each batch size's fastest round (the machine is shared: the least disturbed one), with
    every round's tokens/s kept beside it."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1]
    best = dict(max(ok, key=lambda r: r["b1"]["tokens_per_s"]))
    for key in ("b8", "b16"):
        if all(key in r for r in ok):
            fastest = max(ok, key=lambda r: r[key]["tokens_per_s"])
            best[key] = fastest[key]
            best[f"cpu_{key}"] = fastest.get("cpu")
    best["rounds_tokens_per_s"] = [
        {k: round(r[k]["tokens_per_s"], 2) for k in ("b1", "b8", "b16") if k in r} for r in ok
    ]
    return best


# ---- servers ---------------------------------------------------------------------------------


def translator_env(engine: str, plan: Plan, hf_dir: Path, ct2_dir: Path | None) -> dict[str, str]:
    """Settings of a newsbrief server whose translator is the benchmark checkpoint."""
    t = "NEWSBRIEF_MODELS__TRANSLATOR__"
    env = {
        f"{t}PRESET": "m2m100-418m",
        f"{t}PATH": str(hf_dir),
        f"{t}DECODING__NUM_BEAMS": "1",
        f"{t}DECODING__MAX_NEW_TOKENS": str(plan.new_tokens),
        f"{t}DECODING__MIN_NEW_TOKENS": str(plan.new_tokens),
        "NEWSBRIEF_CACHE__ENABLED": "false",
    }
    if plan.max_batch_size is not None:
        env[f"{t}BATCHING__MAX_BATCH_SIZE"] = str(plan.max_batch_size)
    if plan.max_wait_ms is not None:
        env[f"{t}BATCHING__MAX_WAIT_MS"] = str(plan.max_wait_ms)
    if engine == "torch":
        env |= {
            f"{t}ENGINE": "transformers",
            f"{t}THREADS": str(plan.torch_threads),
            f"{t}INTER_THREADS": "1",
        }
    else:
        env |= {
            f"{t}ENGINE": "ctranslate2",
            f"{t}PATH": str(ct2_dir),  # a converted directory is used as it is
            f"{t}COMPUTE_TYPE": "int8",
            f"{t}THREADS": str(plan.ct2_intra_threads),
            f"{t}INTER_THREADS": str(plan.ct2_inter_threads),
        }
    return env


def _p50(values: list[float]) -> float | None:
    return round(percentile(values, 50), 3) if values else None


async def summarize_load(
    target: str, plan: Plan, concurrency: int, requests: int, *, offset: int, languages: list[str]
) -> tuple[LoadResult, dict[str, list[float]]]:
    """Drive ``requests`` briefs (unique articles) at ``concurrency``; also returns the
    server-reported times (ms): the translate stage and the pipeline's total."""
    reported: dict[str, list[float]] = {"translate": [], "total": []}
    async with AsyncClient(target, retries=0, timeout=plan.call_timeout_s) as client:

        async def call(i: int) -> None:
            result = await client.summarize(
                article(offset + i), target_languages=languages, **BRIEF_OPTIONS
            )
            if languages and len(result.translations) != len(languages):
                raise RuntimeError(f"{len(result.translations)} translations")
            stage = result.timings.stages_ms.get("translate")
            if stage is not None:
                reported["translate"].append(stage)
            reported["total"].append(result.timings.total_ms)

        # one unmeasured call first: connection set-up is not part of the load
        await call(10_000_000 + offset)
        for values in reported.values():
            values.clear()
        result = await run_load(
            call,
            requests=requests,
            concurrency=concurrency,
            max_seconds=plan.load_cap_s,
            call_timeout_s=plan.call_timeout_s,
        )
    return result, reported


async def translator_ready(target: str) -> tuple[bool, str, dict[str, Any]]:
    async with AsyncClient(target, retries=0, timeout=10) as client:
        info = await client.server_info()
    for cap in info.capabilities:
        if cap.name == "translate":
            model = next((m for m in info.models if m.role == "translator"), None)
            return (
                cap.ready,
                cap.detail,
                {"id": model.id, "backend": model.backend} if model else {},
            )
    return False, "no translate capability", {}


async def row1_start(name: str, server: ServerProcess, entry: dict[str, Any]) -> bool:
    """Start one translator server (the others idle), measure start-up and memory; False when
    it failed or its translator is not ready (the reason is in ``entry``)."""
    try:
        entry["serving_s"] = await server.start_async()
        entry["rss_serving_kb"] = server.memory_kb().get("VmRSS")
        ready, detail, model = await translator_ready(server.target)
        if "id" in model:  # a local path: relative to the repository
            model["id"] = str(model["id"]).replace(f"{REPO}/", "")
        entry["model"] = model
        if not ready:
            entry["error"] = f"translator not ready: {detail}"
        return ready
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("row1 %s failed to start", name)
        return False


async def row1_load(
    name: str, server: ServerProcess, plan: Plan, entry: dict[str, Any], k: int, c: int
) -> None:
    """One load run of ``plan.requests[c]`` briefs at ``c`` clients against one server."""
    assert server.proc is not None
    try:
        foreign = ForeignLoad([os.getpid(), server.proc.pid])
        server_cpu0 = process_cpu_s(server.proc.pid)
        load, reported = await summarize_load(
            server.target,
            plan,
            c,
            plan.requests[c],
            offset=100_000 * (k + 1),
            languages=ROW1_LANGUAGES,
        )
        server_cpu = process_cpu_s(server.proc.pid) - server_cpu0
        entry[f"c{c}"] = load.summary() | {
            "translate_stage_p50_ms": _p50(reported["translate"]),
            "server_cpu_s_per_request": round(server_cpu / max(load.completed, 1), 3),
            "cpu": foreign.result(),
        }
        log.info("row1 %s c=%d: %s", name, c, entry[f"c{c}"])
    except Exception as exc:
        entry[f"c{c}_error"] = f"{type(exc).__name__}: {exc}"
        log.exception("row1 %s c=%d failed", name, c)


async def row3_bare_pipeline(
    plan: Plan, batched: bool, max_wait_ms: float | None = None
) -> dict[str, Any]:
    """The bare pipeline call (no gRPC) in this process, with the no-op backend behind the
    micro-batcher (as the server has it) or the no-op translator called directly."""
    from bench.translators import NoopTranslator, noop_batched
    from newsbrief.service.domain import Article, BriefOptions
    from newsbrief.service.pipeline.core import Pipeline
    from newsbrief.service.settings import Settings

    settings = Settings(cache={"enabled": False})
    batching = settings.models.translator.batching
    if max_wait_ms is not None:
        batching = batching.model_copy(update={"max_wait_ms": max_wait_ms})
    translator = noop_batched(batching) if batched else NoopTranslator()
    pipeline = Pipeline(settings, translator=translator)
    await pipeline.start()
    options = BriefOptions(target_languages=("ko",), **BRIEF_OPTIONS)
    latencies: list[float] = []
    foreign = ForeignLoad([os.getpid()])
    try:
        for i in range(plan.overhead_requests + 5):
            t0 = time.monotonic()
            await pipeline.brief(Article(text=article(500_000 + i)), options)
            if i >= 5:
                latencies.append((time.monotonic() - t0) * 1000)
    finally:
        pipeline.close()
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "cpu": foreign.result(),
    }


async def run(plan: Plan, results: dict[str, Any]) -> None:
    logs = OUT / "logs"
    t0 = time.monotonic()
    if not {1, 2, 6, 7} & set(plan.rows):  # rows 3 and 4 need no model
        await rows_3_4(plan, results, logs)
        results["wall_s"] = round(time.monotonic() - t0, 1)
        return
    models = ensure_models(with_ct2="ct2" in plan.engines or bool({6, 7} & set(plan.rows)))
    results["models"] = {
        "architecture": "M2M100ForConditionalGeneration (facebook/m2m100_418M config)",
        "config": M2M100_418M,
        "parameters": models.parameters,
        "decode_step_weights": decode_step_weights(M2M100_418M),
        "hf_dir": str(models.hf_dir.relative_to(REPO)),
        "ct2_dir": str(models.ct2_dir.relative_to(REPO)) if models.ct2_dir else None,
        "build_s": round(models.build_s, 1),
        "convert_s": round(models.convert_s, 1),
        "ct2_converter": models.ct2_note,
        "setup_s": round(time.monotonic() - t0, 1),
    }

    if 2 in plan.rows:
        row2(plan, models, results)
    await rows_3_4(plan, results, logs)
    if 1 in plan.rows:
        await row1(plan, models, results, logs)
    if 6 in plan.rows:
        await row6(plan, models, results, logs)
    if 7 in plan.rows:
        await row7(plan, models, results, logs)
    results["wall_s"] = round(time.monotonic() - t0, 1)


def row2(plan: Plan, models: Any, results: dict[str, Any]) -> None:
    """Engines alone, each in its own process, alternated over rounds (best round kept)."""
    engines = {"torch": models.hf_dir}
    if models.ct2_dir is not None:
        engines["ct2"] = models.ct2_dir
    nllb_built = (OUT / "nllb-600m" / "ct2-int8" / ".complete").is_file()
    if plan.nllb and (nllb_built or not plan.quick):  # --quick builds no new model
        try:
            nllb = ensure_nllb()
            engines["ct2-nllb"] = nllb.ct2_dir
            results["models"]["nllb"] = {
                "architecture": "M2M100ForConditionalGeneration "
                "(facebook/nllb-200-distilled-600M config)",
                "config": NLLB_600M,
                "parameters": nllb.parameters,
                "decode_step_weights": decode_step_weights(NLLB_600M),
                "build_s": round(nllb.build_s, 1),
                "convert_s": round(nllb.convert_s, 1),
            }
        except Exception as exc:
            results["models"]["nllb"] = {"error": f"{type(exc).__name__}: {exc}"}
            log.exception("NLLB-shaped model not built")
    probes: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    for _ in range(plan.probe_rounds):
        for name, path in engines.items():
            probes[name].append(probe_engine(name, path, plan))
    results["row2"] = {name: best_round(runs) for name, runs in probes.items()}
    log.info("row2: %s", results["row2"])


async def rows_3_4(plan: Plan, results: dict[str, Any], logs: Path) -> None:
    """Rows 4 and 5's extractive server, and row 3 (service overhead), as ``plan.rows`` says."""
    if 4 in plan.rows:
        await row4(plan, results, logs)
    if 3 in plan.rows:
        await row3(plan, results, logs)


async def row4(plan: Plan, results: dict[str, Any], logs: Path) -> None:
    """Extractive-only server (the real newsbrief-server, no translator): briefs per second,
    cache hits, start-up and memory."""
    extractive = bench_server(
        "extractive",
        newsbrief_server_argv(),
        {"NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none"},
        logs / "extractive.log",
    )
    row4: dict[str, Any] = {}
    results["row4"] = row4
    try:
        row4["serving_s"] = await extractive.start_async()
        row4["rss_serving_kb"] = extractive.memory_kb().get("VmRSS")
        assert extractive.proc is not None
        foreign = ForeignLoad([os.getpid(), extractive.proc.pid])
        load, _ = await summarize_load(
            extractive.target,
            plan,
            plan.extractive_concurrency,
            plan.extractive_requests,
            offset=1_000_000,
            languages=[],
        )
        row4["extractive"] = load.summary() | {"cpu": foreign.result()}
        row4["cache"] = await cache_hits(extractive.target, plan)
        row4["rss_after_load_kb"] = extractive.memory_kb().get("VmRSS")
    except Exception as exc:
        row4["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("row4 failed")
    finally:
        extractive.stop()
    row4["news"] = await row4_news(logs)
    log.info("row4: %s", row4)


NEWS_ROUNDS = 3


async def row4_news(logs: Path) -> dict[str, Any]:
    """The extractive-only server (result cache off) briefing the shared news articles
    (``summarisation/`` and ``non_english/`` of the shared data) at 4 clients, in
    :data:`NEWS_ROUNDS` rounds (the fastest is the figure): memory of the
    process tree at SERVING and after (RSS summed, and PSS: pages the workers share with their
    fork server counted once), and server CPU per brief (bench.extractive_server)."""
    from bench.extractive_server import one_round, server
    from bench.profile_extractive import articles, data_dir
    from tests.harness.server import proc_pss_kb

    news: dict[str, Any] = {"clients": 4}
    try:
        texts = [text for _, _, text in articles(data_dir())]
    except SystemExit as exc:  # no shared data here
        return {"error": str(exc)}
    proc = server("extractive-news", REPO, {}, logs)
    try:
        news["serving_s"] = await proc.start_async()
        assert proc.proc is not None
        await asyncio.sleep(1.0)  # start-up threads settle
        news["rss_serving_kb"] = proc.memory_kb().get("VmRSS")
        news["pss_serving_kb"] = proc_pss_kb(proc.proc.pid)
        # rounds of the same 86 briefs on the same server; the fastest is the figure (as row 3
        # and bench.extractive_server do: a burst of other load on this shared machine, or the
        # first round's cold caches, does not decide it), every round is kept
        rounds = [await one_round(proc, texts, 4, r) for r in range(NEWS_ROUNDS)]
        news["rounds"] = rounds
        news["load"] = min(rounds, key=lambda r: r["cpu_ms_per_brief"])
        news["rss_after_load_kb"] = proc.memory_kb().get("VmRSS")
        news["pss_after_load_kb"] = proc_pss_kb(proc.proc.pid)
    except Exception as exc:
        news["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("row4 news failed")
    finally:
        proc.stop()
    return news


async def row3(plan: Plan, results: dict[str, Any], logs: Path) -> None:
    """No-op translator server vs bare pipeline."""

    # row 3: no-op translator server vs bare pipeline. The servers and the bare calls alternate
    # over ``overhead_rounds`` rounds and each keeps its fastest round (all rounds are kept in
    # results.json), so a burst of other load on this shared machine does not decide the row.
    row3: dict[str, Any] = {}
    rounds: list[dict[str, Any]] = []
    results["row3"] = row3
    results["row3_rounds"] = rounds

    async def measure_servers(into: dict[str, Any]) -> None:
        for suffix, wait in (("", None), ("_wait0", 0.0)):
            env = {
                "NEWSBRIEF_CACHE__ENABLED": "false",
                "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
            }
            if wait is not None:
                env["NEWSBRIEF_MODELS__TRANSLATOR__BATCHING__MAX_WAIT_MS"] = str(wait)
            noop = bench_server(f"noop{suffix}", bench_server_argv("noop"), env, logs / "noop.log")
            try:
                await noop.start_async()
                assert noop.proc is not None
                foreign = ForeignLoad([os.getpid(), noop.proc.pid])
                load, reported = await summarize_load(
                    noop.target, plan, 1, plan.overhead_requests, offset=2_000_000, languages=["ko"]
                )
                into[f"server{suffix}"] = load.summary() | {
                    "cpu": foreign.result(),
                    "pipeline_total_p50_ms": _p50(reported["total"]),
                }
            except Exception as exc:
                into[f"server{suffix}"] = {"error": f"{type(exc).__name__}: {exc}"}
                log.exception("row3 server%s failed", suffix)
            finally:
                noop.stop()

    async def measure_bare(into: dict[str, Any]) -> None:
        for key, batched, wait in (
            ("bare", False, None),
            ("bare_batched", True, None),
            ("bare_batched_wait0", True, 0.0),
        ):
            try:
                into[key] = await row3_bare_pipeline(plan, batched, wait)
            except Exception as exc:
                into[key] = {"error": f"{type(exc).__name__}: {exc}"}
                log.exception("row3 %s failed", key)

    for i in range(plan.overhead_rounds):
        this: dict[str, Any] = {}
        if i % 2 == 0:
            await measure_servers(this)
            await measure_bare(this)
        else:
            await measure_bare(this)
            await measure_servers(this)
        rounds.append(this)
    for key in {k for r in rounds for k in r}:
        ok = [r[key] for r in rounds if "p50_ms" in r.get(key, {})]
        row3[key] = (
            min(ok, key=lambda m: m["p50_ms"]) | {"rounds": len(ok)}
            if ok
            else next(r[key] for r in rounds if key in r)
        )
    log.info("row3: %s", row3)


async def row1(plan: Plan, models: Any, results: dict[str, Any], logs: Path) -> None:
    """Row 1 (and row 5's model servers): naive baseline, newsbrief torch, newsbrief CT2 int8.
    All three servers are up at once (idle ones use no CPU) and the load runs go by number of
    clients, engine after engine, so the engines compared at one concurrency are measured
    close together in time on this shared machine."""
    results["row1"] = {}
    servers: dict[str, ServerProcess] = {}
    try:
        for engine in plan.engines:
            entry: dict[str, Any] = {"name": engine}
            results["row1"][engine] = entry
            if engine == "ct2" and models.ct2_dir is None:
                entry["error"] = models.ct2_note
                continue
            server = (
                bench_server(
                    "naive",
                    bench_server_argv(
                        "naive",
                        "--model",
                        str(models.hf_dir),
                        "--new-tokens",
                        str(plan.new_tokens),
                        "--threads",
                        str(plan.torch_threads),
                    ),
                    {
                        "NEWSBRIEF_CACHE__ENABLED": "false",
                        "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
                    },
                    logs / "naive.log",
                )
                if engine == "naive"
                else bench_server(
                    engine,
                    newsbrief_server_argv(),
                    translator_env(engine, plan, models.hf_dir, models.ct2_dir),
                    logs / f"{engine}.log",
                )
            )
            if await row1_start(engine, server, entry):
                servers[engine] = server
            else:
                server.stop()
        for k, c in enumerate(plan.concurrencies):
            for engine, server in servers.items():
                await row1_load(engine, server, plan, results["row1"][engine], k, c)
        record_memory(servers, results["row1"])
    finally:
        for server in servers.values():
            server.stop()


def record_memory(servers: dict[str, ServerProcess], into: dict[str, dict[str, Any]]) -> None:
    """Each server's RSS now and its peak RSS (VmHWM) since it started, after its load runs."""
    for name, server in servers.items():
        mem = server.memory_kb()
        into[name]["rss_after_load_kb"] = mem.get("VmRSS")
        into[name]["peak_rss_kb"] = mem.get("VmHWM")


# ---- row 6: beside LibreTranslate ------------------------------------------------------------


async def peer_run(
    server: ServerProcess,
    plan: Plan,
    concurrency: int,
    requests: int,
    call: Callable[[int], Awaitable[Any]],
    offset: int,
    warm: bool = True,
) -> dict[str, Any]:
    """One load run against one server (rows 6 and 7), after one unmeasured call (``warm``)."""
    assert server.proc is not None
    if warm:
        await call(offset - 1)
    foreign = ForeignLoad([os.getpid(), server.proc.pid])
    cpu0 = process_cpu_s(server.proc.pid)
    load = await run_load(
        lambda i: call(offset + i),
        requests=requests,
        concurrency=concurrency,
        max_seconds=plan.load_cap_s,
        call_timeout_s=plan.call_timeout_s,
    )
    cpu = process_cpu_s(server.proc.pid) - cpu0
    return load.summary() | {
        "server_cpu_s_per_request": round(cpu / max(load.completed, 1), 3),
        "cpu": foreign.result(),
        "rss_kb": server.memory_kb().get("VmRSS"),
    }


# A short article whose default brief repeats summary sentences as key points (as short
# articles' briefs do): the case the within-request dedup is for.
DEDUP_ARTICLE = (
    "The council of district {i} approved 1,250 homes on Tuesday. The plan will cost 45 million "
    "dollars. Mayor Lee said work starts in 2026. Residents welcomed the decision."
)


async def dedup_effect(client: AsyncClient, i: int) -> list[dict[str, Any]]:
    """Texts sent to the model per translated brief (ko + ms, default length), before (every
    field of the brief, per language: what was sent before the translation cache) and after: a
    first brief (repeats within it sent once), the same article again with the result cache off
    (answered by the sentence cache), and the article updated with one more sentence."""
    text = DEDUP_ARTICLE.format(i=i)
    cases = [
        ("first brief of an article", text),
        ("the same article again (result cache off)", text),
        ("the article updated (one sentence added)", text + " A second vote is due in May."),
    ]
    out: list[dict[str, Any]] = []
    for label, body in cases:
        result = await client.summarize(body, source_language="en", target_languages=["ko", "ms"])
        stages = result.timings.stages_ms
        out.append(
            {
                "case": label,
                "texts_before": stages.get("translate.texts"),
                "texts_sent": stages.get("translate.sent"),
                "texts_cached": stages.get("translate.cached"),
                "translate_ms": round(stages.get("translate", 0.0), 1),
            }
        )
    return out


def nb_layout(layout: tuple[int, int, int, int]) -> dict[str, int]:
    inter, intra, batch, workers = layout
    return {"inter": inter, "intra": intra, "max_batch_size": batch, "workers": workers}


def lt_process(
    venv_python: Any, packages: Any, plan: Plan, layout: dict[str, int], log_path: Path
) -> Any:
    """LibreTranslate in ``layout`` (from :func:`lt_layout`), at the plan's beam and length."""
    from bench import peer as lt

    return lt.LibreTranslateProcess(
        venv_python,
        packages,
        new_tokens=plan.new_tokens,
        beam=plan.peer_beam,
        inter_threads=layout["inter"],
        intra_threads=layout["intra"],
        threads=layout["threads"],
        log_path=log_path,
    )


def lt_layout(layout: tuple[int, int, int]) -> dict[str, int]:
    inter, intra, threads = layout
    return {"inter": inter, "intra": intra, "threads": threads}


def layout_label(layout: dict[str, int]) -> str:
    """``2x1 b8 w2`` (newsbrief: inter x intra, max batch size, worker processes) or ``2x1 t16``
    (LibreTranslate: inter x intra, waitress threads)."""
    text = f"{layout['inter']}x{layout['intra']}"
    if "max_batch_size" in layout:
        return f"{text} b{layout['max_batch_size']} w{layout['workers']}"
    return f"{text} t{layout['threads']}"


def newsbrief_peer_env(plan: Plan, models: Any, layout: dict[str, int]) -> dict[str, str]:
    """newsbrief serving the benchmark's CT2 model at row 6's beam, in ``layout``, configured as
    a translation service whose callers name the source language (every call of row 6 does):
    no language model loaded until a call needs one (``language_models_at_start`` off)."""
    t = "NEWSBRIEF_MODELS__TRANSLATOR__"
    return translator_env("ct2", plan, models.hf_dir, models.ct2_dir) | {
        "NEWSBRIEF_LANGUAGE_MODELS_AT_START": "false",
        f"{t}DECODING__NUM_BEAMS": str(plan.peer_beam),
        f"{t}INTER_THREADS": str(layout["inter"]),
        f"{t}THREADS": str(layout["intra"]),
        f"{t}BATCHING__MAX_BATCH_SIZE": str(layout["max_batch_size"]),
        "NEWSBRIEF_WORKERS": str(layout["workers"]),
    }


def pick_layout(
    points: list[dict[str, Any]], tie: float, memory_cap_kb: float | None = None
) -> dict[str, Any] | None:
    """The sweep's criterion: among the points whose peak PSS is within ``memory_cap_kb`` (all
    measured points when none is), the highest throughput at 16 clients; points within ``tie``
    of it are a tie, broken by the lower p50 at 1 client."""
    ok = [p for p in points if _num(_get(p, "c16", "throughput_rps"))]
    if not ok:
        return None
    within = [
        p for p in ok if memory_cap_kb is None or (p.get("peak_pss_kb") or 0) <= memory_cap_kb
    ]
    pool = within or ok
    best = max(p["c16"]["throughput_rps"] for p in pool)
    tied = [p for p in pool if p["c16"]["throughput_rps"] >= (1 - tie) * best]
    return min(tied, key=lambda p: _num(_get(p, "c1", "p50_ms")) or float("inf"))


def fewer_workers_win(point: dict[str, Any], best: dict[str, Any], tie: float) -> bool:
    """Worker processes run the text stages, not the model: another worker count replaces the
    best layout's only when it saves memory (peak PSS lower by more than ``tie``) at the same
    throughput (within ``tie``), so that noise in throughput does not decide it."""
    rps, best_rps = (_num(_get(p, "c16", "throughput_rps")) for p in (point, best))
    pss, best_pss = (_num(p.get("peak_pss_kb")) for p in (point, best))
    if not (rps and best_rps and pss and best_pss):
        return False
    return rps >= (1 - tie) * best_rps and pss < (1 - tie) * best_pss


async def sweep_point(
    server: ServerProcess,
    layout: dict[str, int],
    plan: Plan,
    call: Callable[[int], Awaitable[Any]],
    offset: int,
) -> dict[str, Any]:
    """One point of the sweep: start ``server``, warm it up (one call, then 16 at 16 clients),
    ``plan.sweep_requests`` at 16 clients and ``plan.sweep_c1_requests`` at 1; the tree's peak
    RSS (summed, sampled) and PSS over the warm-up and the runs, and the summed VmHWM."""
    point: dict[str, Any] = {"layout": layout, "label": layout_label(layout)}
    try:
        point["serving_s"] = round(await server.start_async(timeout_s=600), 2)
        peaks = MemoryPeaks(server.proc.pid).start()
        point["rss_serving_kb"] = peaks.peak_rss_kb
        point["pss_serving_kb"] = peaks.peak_pss_kb
        try:
            await call(offset - 1)  # LibreTranslate loads its model on its first request
            await run_load(
                lambda i: call(offset - 100 - i),
                requests=16,
                concurrency=16,
                max_seconds=plan.load_cap_s,
                call_timeout_s=plan.call_timeout_s,
            )
            point["c16"] = await peer_run(
                server, plan, 16, plan.sweep_requests, call, offset, warm=False
            )
            point["c1"] = await peer_run(
                server, plan, 1, plan.sweep_c1_requests, call, offset + 1000, warm=False
            )
        finally:
            point |= peaks.stop()
            point["peak_rss_kb"] = server.memory_kb().get("VmHWM")
        rps = _num(_get(point, "c16", "throughput_rps"))
        if rps:
            point["pss_mib_per_rps"] = round(point["peak_pss_kb"] / 1024 / rps, 1)
            point["rss_mib_per_rps"] = round(point["peak_rss_sampled_kb"] / 1024 / rps, 1)
    except Exception as exc:
        point["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("row6 sweep %s failed", point["label"])
    finally:
        server.stop()
    log.info("row6 sweep %s: %s", point["label"], point)
    return point


async def sweep(
    plan: Plan, models: Any, lt: Any, venv_python: Path, packages: Path, logs: Path
) -> dict[str, Any]:
    """Row 6's sweep: every LibreTranslate layout, then every newsbrief layout (and the worker
    counts of ``plan.sweep_workers`` at the best of those); the best of each by
    :func:`pick_layout`, newsbrief's within the best LibreTranslate layout's peak PSS."""
    out: dict[str, Any] = {
        "requests_c16": plan.sweep_requests,
        "requests_c1": plan.sweep_c1_requests,
        "tie": plan.sweep_tie,
        "libretranslate": [],
        "newsbrief": [],
    }
    t0 = time.monotonic()
    for k, raw in enumerate(plan.sweep_libretranslate):
        layout = lt_layout(raw)
        peer = lt_process(venv_python, packages, plan, layout, logs / "libretranslate-sweep.log")

        async def lt_call(i: int, peer: Any = peer) -> None:
            if not await peer.translate(sentence(i), "ko", plan.call_timeout_s):
                raise RuntimeError("empty translation")

        out["libretranslate"].append(
            await sweep_point(peer, layout, plan, lt_call, 20_000_000 + 100_000 * k)
        )
    best_lt = pick_layout(out["libretranslate"], plan.sweep_tie)
    cap = best_lt.get("peak_pss_kb") if best_lt else None
    out["memory_cap_kb"] = cap

    async def nb_point(layout: dict[str, int], k: int) -> dict[str, Any]:
        server = bench_server(
            "newsbrief-sweep",
            newsbrief_server_argv(),
            newsbrief_peer_env(plan, models, layout),
            logs / "newsbrief-sweep.log",
        )
        async with AsyncClient(server.target, retries=0, timeout=plan.call_timeout_s) as client:

            async def nb_call(i: int) -> None:
                result = await client.translate([sentence(i)], ["ko"], "en")
                if len(result.translations) != 1:
                    raise RuntimeError(f"{len(result.translations)} translations")

            return await sweep_point(server, layout, plan, nb_call, 30_000_000 + 100_000 * k)

    for k, nb_raw in enumerate(plan.sweep_newsbrief):
        out["newsbrief"].append(await nb_point(nb_layout(nb_raw), k))
    best = pick_layout(out["newsbrief"], plan.sweep_tie, cap)
    if best is not None:
        for workers in plan.sweep_workers:
            if workers != best["layout"]["workers"]:
                layout = best["layout"] | {"workers": workers}
                point = await nb_point(layout, len(out["newsbrief"]))
                out["newsbrief"].append(point)
                if fewer_workers_win(point, best, plan.sweep_tie):
                    best = point
    out["best"] = {
        "libretranslate": best_lt["layout"] if best_lt else None,
        "newsbrief": best["layout"] if best else None,
    }
    out["wall_s"] = round(time.monotonic() - t0, 1)
    log.info("row6 sweep: best %s (%.0f s)", out["best"], out["wall_s"])
    return out


async def row6(plan: Plan, models: Any, results: dict[str, Any], logs: Path) -> None:
    """Row 6: the sweep of thread layouts (:func:`sweep`), then newsbrief's Translate RPC (and
    translated briefs) beside LibreTranslate over its HTTP API, each in its best layout: the
    same int8 model, beam, forced length and texts (one English sentence per request, unique).
    Both servers are up together; at each number of clients their runs alternate in order, and
    each one's peak memory (summed RSS and PSS of its process tree) is sampled over them. The
    translated briefs and the dedup check run after, on the same newsbrief server."""
    from bench import peer as lt

    row: dict[str, Any] = {"libretranslate_version": lt.LT_VERSION, "beam": plan.peer_beam}
    results["row6"] = row
    if models.ct2_dir is None:
        row["error"] = f"no CTranslate2 model: {models.ct2_note}"
        return
    venv_python = lt.LT_DIR / "venv" / "bin" / "python"
    if plan.quick and not (lt.LT_DIR / "venv" / ".installed").is_file():
        row["error"] = "skipped in --quick mode: LibreTranslate is not installed yet (make bench)"
        return
    try:
        t0 = time.monotonic()
        venv_python = await asyncio.to_thread(lt.ensure_venv)
        packages = await asyncio.to_thread(
            lt.build_packages,
            venv_python,
            models.ct2_dir,
            models.hf_dir / "sentencepiece.bpe.model",
        )
        row["setup_s"] = round(time.monotonic() - t0, 1)
    except Exception as exc:
        row["error"] = f"LibreTranslate could not be set up: {type(exc).__name__}: {exc}"
        log.exception("row6 set-up failed")
        return
    ours_layout = nb_layout(
        (plan.ct2_inter_threads, plan.ct2_intra_threads, default_batch_size(plan), 2)
    )
    peer_layout = lt_layout((plan.ct2_inter_threads, plan.ct2_intra_threads, plan.peer_threads))
    if plan.sweep:
        row["sweep"] = await sweep(plan, models, lt, venv_python, packages, logs)
        best = row["sweep"]["best"]
        ours_layout = best["newsbrief"] or ours_layout
        peer_layout = best["libretranslate"] or peer_layout
        if plan.sweep_only:
            return
    row["layouts"] = {"newsbrief": ours_layout, "libretranslate": peer_layout}
    # what batching can give at this beam: the engine alone at batch 1, 8 and 16 (its own
    # process, before the servers start), on the threads of one of newsbrief's replicas; then
    # in newsbrief's whole layout given the 16 texts of 16 clients at once
    row["engine_alone"] = await asyncio.to_thread(
        probe_engine,
        "ct2",
        models.ct2_dir,
        plan,
        plan.peer_beam,
        ours_layout["intra"],
        ours_layout["inter"],
    )
    peer = lt_process(venv_python, packages, plan, peer_layout, logs / "libretranslate.log")
    metrics_port = free_port()  # the translator's batch sizes, read from its /metrics
    ours = bench_server(
        "newsbrief",
        newsbrief_server_argv(),
        newsbrief_peer_env(plan, models, ours_layout)
        | {"NEWSBRIEF_METRICS_PORT": str(metrics_port), "NEWSBRIEF_METRICS_HOST": "127.0.0.1"},
        logs / "newsbrief-peer.log",
    )
    servers = {"libretranslate": peer, "newsbrief": ours}
    entries: dict[str, dict[str, Any]] = {"libretranslate": {}, "newsbrief": {}, "brief": {}}
    row |= entries
    peaks: dict[str, MemoryPeaks] = {}
    try:
        for name, server in servers.items():
            entries[name]["serving_s"] = round(await server.start_async(timeout_s=600), 2)
            entries[name]["rss_serving_kb"] = server.memory_kb().get("VmRSS")
            peaks[name] = MemoryPeaks(server.proc.pid).start()
            entries[name]["pss_serving_kb"] = peaks[name].peak_pss_kb
        async with AsyncClient(ours.target, retries=0, timeout=plan.call_timeout_s) as client:

            async def lt_call(i: int) -> None:
                if not await peer.translate(sentence(i), "ko", plan.call_timeout_s):
                    raise RuntimeError("empty translation")

            async def nb_call(i: int) -> None:
                result = await client.translate([sentence(i)], ["ko"], "en")
                if len(result.translations) != 1:
                    raise RuntimeError(f"{len(result.translations)} translations")

            async def brief_call(i: int) -> None:
                result = await client.summarize(
                    article(i), target_languages=["ko"], source_language="en", **BRIEF_OPTIONS
                )
                if len(result.translations) != 1:
                    raise RuntimeError(f"{len(result.translations)} translations")

            calls = {"libretranslate": lt_call, "newsbrief": nb_call}
            for k, c in enumerate(plan.concurrencies):
                order = list(calls) if k % 2 == 0 else list(reversed(calls))
                for name in order:  # the same texts for both: the same offset
                    if name == "newsbrief":
                        before = await asyncio.to_thread(translator_batches, metrics_port)
                    entries[name][f"c{c}"] = await peer_run(
                        servers[name],
                        plan,
                        c,
                        plan.peer_requests[c],
                        calls[name],
                        4_000_000 * (k + 1),
                    )
                    if name == "newsbrief":
                        after = await asyncio.to_thread(translator_batches, metrics_port)
                        batches, texts = after[0] - before[0], after[1] - before[1]
                        entries[name][f"c{c}"] |= {
                            "translator_batches": batches,
                            "texts_per_batch": round(texts / batches, 2) if batches else None,
                        }
                    log.info("row6 %s c=%d: %s", name, c, entries[name][f"c{c}"])
            record_memory(servers, entries)
            for name, sampler in peaks.items():
                entries[name] |= sampler.stop()
                rps = _num(_get(entries[name], "c16", "throughput_rps"))
                if rps:
                    entries[name]["pss_mib_per_rps"] = round(
                        entries[name]["peak_pss_kb"] / 1024 / rps, 1
                    )
                    entries[name]["rss_mib_per_rps"] = round(
                        entries[name]["peak_rss_sampled_kb"] / 1024 / rps, 1
                    )
            for k, c in enumerate(plan.concurrencies):
                entries["brief"][f"c{c}"] = await peer_run(
                    ours, plan, c, plan.peer_brief_requests[c], brief_call, 5_000_000 * (k + 1)
                )
                log.info("row6 brief c=%d: %s", c, entries["brief"][f"c{c}"])
            row["dedup"] = await dedup_effect(client, 8_000_000)
            log.info("row6 dedup: %s", row["dedup"])
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("row6 failed")
    finally:
        for sampler in peaks.values():
            sampler.stop()
        for server in servers.values():
            server.stop()


def translator_batches(metrics_port: int) -> tuple[float, float]:
    """How many translator batches a server has run, and how many texts they held in all (its
    ``newsbrief_model_batch_size`` histogram on /metrics, one scrape)."""
    samples = metrics(metrics_port)
    return (
        metric(samples, "newsbrief_model_batch_size_count", model="translator"),
        metric(samples, "newsbrief_model_batch_size_sum", model="translator"),
    )


def default_batch_size(plan: Plan) -> int:
    from newsbrief.service.settings import BatchingSettings

    return plan.max_batch_size or BatchingSettings().max_batch_size


# ---- row 7: abstractive briefs ---------------------------------------------------------------


def summarizer_env(
    preset: str, engine: str, plan: Plan, models: Any, summarizer_dir: Path
) -> dict[str, str]:
    """A newsbrief server whose summariser is a benchmark shape: ``naive`` is the transformers
    engine (torch fp32, 2 threads) one article at a time (batch size 1, one worker: one
    ``generate()`` per article); ``ct2`` the CTranslate2 int8 engine behind the micro-batcher
    (inter 2 x intra 1, the project's batching defaults), with the CT2 M2M100 translator loaded
    too (peak RSS with both models)."""
    s = "NEWSBRIEF_MODELS__SUMMARIZER__"
    env = {
        f"{s}PRESET": preset,
        f"{s}PATH": str(summarizer_dir),
        f"{s}DECODING__NUM_BEAMS": "1",
        f"{s}DECODING__MAX_NEW_TOKENS": str(plan.summary_tokens),
        f"{s}DECODING__MIN_NEW_TOKENS": str(plan.summary_tokens),
        "NEWSBRIEF_CACHE__ENABLED": "false",
    }
    if engine == "naive":
        return env | {
            f"{s}ENGINE": "transformers",
            f"{s}THREADS": str(plan.torch_threads),
            f"{s}INTER_THREADS": "1",
            f"{s}BATCHING__MAX_BATCH_SIZE": "1",
            "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
        }
    return (
        env
        | {
            f"{s}ENGINE": "ctranslate2",
            f"{s}COMPUTE_TYPE": "int8",
            f"{s}THREADS": str(plan.ct2_intra_threads),
            f"{s}INTER_THREADS": str(plan.ct2_inter_threads),
        }
        | translator_env("ct2", plan, models.hf_dir, models.ct2_dir)
    )


async def row7(plan: Plan, models: Any, results: dict[str, Any], logs: Path) -> None:
    """Abstractive briefs (``method=abstractive``, no translation) of unique articles at 1, 4
    and 16 clients, per summariser shape: naive per-article ``generate()`` vs CT2 int8 behind
    the micro-batcher; both servers up together, runs alternating by number of clients."""
    from bench.models import SUMMARIZER_SHAPES, ensure_summarizer

    row: dict[str, Any] = {}
    results["row7"] = row
    for preset in plan.summarizers:
        entry: dict[str, Any] = {"source": SUMMARIZER_SHAPES[preset][0]}
        row[preset] = entry
        built = (OUT / preset_dir(preset) / "ct2-int8" / ".complete").is_file()
        if plan.quick and not built:
            entry["error"] = "skipped in --quick mode: the model is not built yet (make bench)"
            continue
        try:
            shape = await asyncio.to_thread(ensure_summarizer, preset)
        except Exception as exc:
            entry["error"] = f"model not built: {type(exc).__name__}: {exc}"
            log.exception("row7 %s: build failed", preset)
            continue
        entry["parameters"] = shape.parameters
        entry["config"] = SUMMARIZER_SHAPES[preset][2]
        servers = {
            "naive": bench_server(
                f"{preset}-naive",
                newsbrief_server_argv(),
                summarizer_env(preset, "naive", plan, models, shape.hf_dir),
                logs / f"{preset}-naive.log",
            ),
            "ct2": bench_server(
                f"{preset}-ct2",
                newsbrief_server_argv(),
                summarizer_env(preset, "ct2", plan, models, shape.ct2_dir or shape.hf_dir),
                logs / f"{preset}-ct2.log",
            ),
        }
        runs: dict[str, dict[str, Any]] = {"naive": {}, "ct2": {}}
        entry |= runs
        try:
            for name, server in servers.items():
                # a torch model's load and warm-up take long on a busy machine
                runs[name]["serving_s"] = round(await server.start_async(timeout_s=600), 2)
                runs[name]["rss_serving_kb"] = server.memory_kb().get("VmRSS")
            for k, c in enumerate(plan.concurrencies):
                for name in ("naive", "ct2") if k % 2 == 0 else ("ct2", "naive"):
                    runs[name][f"c{c}"] = await abstractive_load(
                        servers[name], plan, c, 6_000_000 * (k + 1), warm=k == 0
                    )
                    log.info("row7 %s %s c=%d: %s", preset, name, c, runs[name][f"c{c}"])
            record_memory(servers, runs)
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            log.exception("row7 %s failed", preset)
        finally:
            for server in servers.values():
                server.stop()


def preset_dir(preset: str) -> str:
    return {"distilbart-cnn": "distilbart-cnn-12-6", "mt5-xlsum": "mt5-base"}[preset]


async def abstractive_load(
    server: ServerProcess, plan: Plan, concurrency: int, offset: int, warm: bool = True
) -> dict[str, Any]:
    """``plan.summary_requests`` abstractive briefs at ``concurrency`` clients; every answer
    must report the summariser's stage (its brief may still be rejected by the guard: random
    weights write junk, and the work is what is measured)."""
    stages: list[float] = []
    async with AsyncClient(server.target, retries=0, timeout=plan.call_timeout_s) as client:

        async def call(i: int) -> None:
            result = await client.summarize(
                article(i), source_language="en", method="abstractive", **BRIEF_OPTIONS
            )
            stage = result.timings.stages_ms.get("abstractive")
            if stage is None:
                raise RuntimeError("no abstractive stage in the timings")
            if i >= offset:
                stages.append(stage)

        return await peer_run(
            server, plan, concurrency, plan.summary_requests[concurrency], call, offset, warm
        ) | {"abstractive_stage_p50_ms": _p50(stages)}


async def cache_hits(target: str, plan: Plan) -> dict[str, Any]:
    """The same request again and again, one at a time: every call after the first is a hit."""
    async with AsyncClient(target, retries=0, timeout=30) as client:
        text = article(3_000_000)
        first = await client.summarize(text, **BRIEF_OPTIONS)
        hits = 0
        latencies: list[float] = []
        for _ in range(plan.cache_requests):
            t0 = time.monotonic()
            result = await client.summarize(text, **BRIEF_OPTIONS)
            latencies.append((time.monotonic() - t0) * 1000)
            hits += bool(result.cached)
    return {
        "requests": len(latencies),
        "first_cached": first.cached,
        "hits": hits,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
    }


def parse_args(argv: list[str] | None = None) -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=Plan.new_tokens)
    parser.add_argument(
        "--engines", default="naive,torch,ct2", help="comma-separated: naive,torch,ct2"
    )
    parser.add_argument("--max-batch-size", type=int, help="micro-batcher (default: project's)")
    parser.add_argument("--max-wait-ms", type=float, help="micro-batcher (default: project's)")
    parser.add_argument("--no-nllb", action="store_true", help="row 2 without the NLLB shape")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only build the models and install LibreTranslate under bench/out (once), measure "
        "nothing",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer requests (a smoke run); the LibreTranslate row only runs where its venv is "
        "already installed",
    )
    parser.add_argument(
        "--rows",
        default="1,2,3,4,6,7",
        help="comma-separated rows to run (rows 3 and 4 alone need no model: a fast smoke)",
    )
    parser.add_argument(
        "--summarizers",
        default=",".join(Plan.summarizers),
        help="comma-separated summariser shapes of row 7 (e.g. distilbart-cnn)",
    )
    parser.add_argument(
        "--sweep",
        choices=("on", "off", "only"),
        default="on",
        help="row 6's sweep of thread layouts before the comparison: off compares the layouts "
        "of --ct2-threads/--peer-threads, only runs the sweep without the comparison",
    )
    parser.add_argument(
        "--ct2-threads",
        default="2x1",
        help="CTranslate2 inter x intra threads of the servers (rows 1, 6 without the sweep, 7)",
    )
    parser.add_argument(
        "--peer-threads",
        type=int,
        default=Plan.peer_threads,
        help="LibreTranslate's waitress threads (row 6 without the sweep)",
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR, help="where the report goes")
    args = parser.parse_args(argv)
    plan = Plan(
        new_tokens=args.new_tokens,
        engines=tuple(args.engines.split(",")),
        max_batch_size=args.max_batch_size,
        max_wait_ms=args.max_wait_ms,
        rows=tuple(int(r) for r in args.rows.split(",")),
        quick=args.quick,
        nllb=not args.no_nllb,
        summarizers=tuple(args.summarizers.split(",")),
        sweep=args.sweep != "off",
        sweep_only=args.sweep == "only",
        peer_threads=args.peer_threads,
    )
    inter, _, intra = args.ct2_threads.partition("x")
    plan.ct2_inter_threads, plan.ct2_intra_threads = int(inter), int(intra)
    if args.quick:
        plan.requests = {1: 2, 4: 4, 16: 16}
        plan.overhead_requests = 50
        plan.extractive_requests = 50
        plan.cache_requests = 50
        plan.probe_reps = 1
        plan.probe_rounds = 1
        plan.engine_rounds = 1
        plan.peer_requests = {1: 2, 4: 4, 16: 16}
        plan.peer_brief_requests = {1: 1, 4: 4, 16: 16}
        plan.summary_requests = {1: 1, 4: 4, 16: 16}
        # the sweep reduced to a point each: the run's own layouts
        plan.sweep_newsbrief = (
            (plan.ct2_inter_threads, plan.ct2_intra_threads, default_batch_size(plan), 2),
        )
        plan.sweep_workers = ()
        plan.sweep_libretranslate = (
            (plan.ct2_inter_threads, plan.ct2_intra_threads, plan.peer_threads),
        )
        plan.sweep_requests = 16
        plan.sweep_c1_requests = 1
    return plan, args


def prepare() -> None:
    """Everything a full run builds or installs once (minutes of one-time work): the models and
    their CT2 conversions, LibreTranslate's venv and argos packages."""
    from bench import peer
    from bench.models import SUMMARIZER_SHAPES, ensure_summarizer

    models = ensure_models()
    ensure_nllb()
    for preset in SUMMARIZER_SHAPES:
        ensure_summarizer(preset)
    python = peer.ensure_venv()
    if models.ct2_dir is not None:
        peer.build_packages(python, models.ct2_dir, models.hf_dir / "sentencepiece.bpe.model")


def main(argv: list[str] | None = None) -> None:
    plan, args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.prepare:
        prepare()
        return
    from newsbrief.service.settings import BatchingSettings

    defaults = BatchingSettings()
    results: dict[str, Any] = {
        "batching": {
            "max_batch_size": plan.max_batch_size or defaults.max_batch_size,
            "max_wait_ms": defaults.max_wait_ms if plan.max_wait_ms is None else plan.max_wait_ms,
            "max_gap_ms": defaults.max_gap_ms,
            "max_batch_tokens": defaults.max_batch_tokens,
            "project_defaults": plan.max_batch_size is None and plan.max_wait_ms is None,
        },
        "machine": machine(probes=not args.quick),
        "plan": plan.__dict__ | {"requests": {str(k): v for k, v in plan.requests.items()}},
        "brief_options": BRIEF_OPTIONS | {"target_languages": ROW1_LANGUAGES},
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "notes": [
            "Rows 1 and 3-6 translate with the default preset's shape (M2M100-418M) and brief "
            "with the built-in extractive summariser; row 2 adds the NLLB-600M shape (CT2 int8, "
            "engine alone) and row 7 the neural summarisers' shapes.",
            "The naive baseline is the same server and pipeline with a translator that runs "
            "`model.generate()` once per text, one request after another on one worker thread "
            "(torch fp32, the same threads): no batching across or within requests.",
            "Random weights: outputs are junk, so only speed and memory are measured; the "
            "forced decode length makes every engine generate the same number of tokens "
            "(checked: tokens per text in row 2).",
        ],
    }
    try:
        asyncio.run(run(plan, results))
    finally:
        report.write(results, args.out)
        log.info("wrote %s and %s", args.out / "RESULTS.md", args.out / "results.json")


if __name__ == "__main__":
    main()
