"""Turn one run's measurements into ``results.json`` and ``RESULTS.md`` (ratios and targets)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ENGINE_LABEL = {
    "naive": "naive baseline (generate() per text, torch fp32)",
    "torch": "newsbrief, torch fp32 engine",
    "ct2": "newsbrief, CTranslate2 int8 engine",
}


def _get(data: Any, *path: Any) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _num(x: Any) -> float | None:
    if isinstance(x, int | float) and not (isinstance(x, float) and math.isnan(x)):
        return float(x)
    return None


def _ratio(a: Any, b: Any) -> float | None:
    a, b = _num(a), _num(b)
    if a is None or b is None or b == 0:
        return None
    return a / b


def _f(x: Any, digits: int = 2, suffix: str = "") -> str:
    v = _num(x)
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}{suffix}"


def _mib(kb: Any) -> str:
    v = _num(kb)
    return "n/a" if v is None else f"{v / 1024:,.0f} MiB"


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each benchmark target with its measured value and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []
    row1 = results.get("row1", {})
    naive16 = _get(row1, "naive", "c16", "throughput_rps")
    naive4_p95 = _get(row1, "naive", "c4", "p95_ms")
    for engine in ("torch", "ct2"):
        if engine not in row1:
            continue
        ratio = _ratio(_get(row1, engine, "c16", "throughput_rps"), naive16)
        out.append(
            {
                "target": f"throughput at 16 clients >= 10x naive ({engine})",
                "measured": f"{_f(ratio)}x",
                "met": None if ratio is None else ratio >= 10,
            }
        )
        p95 = _num(_get(row1, engine, "c16", "p95_ms"))
        base = _num(naive4_p95)
        out.append(
            {
                "target": f"p95 at 16 clients <= naive p95 at 4 ({engine})",
                "measured": f"{_f(p95, 0)} ms vs {_f(base, 0)} ms",
                "met": None if p95 is None or base is None else p95 <= base,
            }
        )
    row2 = results.get("row2", {})
    speed = _ratio(
        _get(row2, "ct2", "b1", "tokens_per_s"), _get(row2, "torch", "b1", "tokens_per_s")
    )
    out.append(
        {
            "target": "CT2 int8 vs torch fp32, batch 1: >= 2x tokens/s",
            "measured": f"{_f(speed)}x",
            "met": None if speed is None else speed >= 2,
        }
    )
    rss = _ratio(_get(row2, "ct2", "b1", "peak_rss_kb"), _get(row2, "torch", "b1", "peak_rss_kb"))
    out.append(
        {
            "target": "CT2 int8 vs torch fp32, batch 1: peak RSS <= 0.5x",
            "measured": f"{_f(rss)}x",
            "met": None if rss is None else rss <= 0.5,
        }
    )
    over = overhead(results)
    out.append(
        {
            "target": "service overhead p50 (no-op backend) < 3 ms",
            "measured": f"{_f(over['overhead_ms'])} ms at the batcher's default max wait "
            f"({_f(over['overhead_wait0_ms'])} ms with max_wait_ms = 0)",
            "met": None if over["overhead_ms"] is None else over["overhead_ms"] < 3,
        }
    )
    for engine, share in over["shares"].items():
        out.append(
            {
                "target": f"overhead < 5% of the backend time of a translated brief ({engine})",
                "measured": f"{_f(share * 100 if share is not None else None)}%",
                "met": None if share is None else share < 0.05,
            }
        )
    ratios = peer_ratios(results)
    if ratios:
        c16 = ratios.get("throughput_x_libretranslate_c16")
        out.append(
            {
                "target": "Translate throughput at 16 clients >= 3x LibreTranslate's",
                "measured": f"{_f(c16)}x",
                "met": None if c16 is None else c16 >= 3,
            }
        )
        p50 = ratios.get("p50_x_libretranslate_c1")
        out.append(
            {
                "target": "Translate p50 at 1 client <= LibreTranslate's",
                "measured": f"{_f(p50)}x LibreTranslate's p50",
                "met": None if p50 is None else p50 <= 1,
            }
        )
        pss = ratios.get("peak_pss_x_libretranslate")
        rss = ratios.get("peak_rss_x_libretranslate")
        if pss is not None:
            out.append(
                {
                    "target": "peak memory of the process tree (PSS) <= LibreTranslate's",
                    "measured": f"{_f(pss)}x LibreTranslate's peak PSS (summed RSS: {_f(rss)}x)",
                    "met": pss <= 1,
                }
            )
        else:
            out.append(
                {
                    "target": "peak RSS at 16 clients <= LibreTranslate's",
                    "measured": f"{_f(rss)}x LibreTranslate's peak RSS",
                    "met": None if rss is None else rss <= 1,
                }
            )
        row6 = results.get("row6") or {}
        ours_m = _get(row6, "newsbrief", "pss_mib_per_rps")
        peer_m = _get(row6, "libretranslate", "pss_mib_per_rps")
        if ours_m is not None and peer_m is not None:
            out.append(
                {
                    "target": "memory per unit of throughput at 16 clients",
                    "measured": f"newsbrief {_f(ours_m, 0)} MiB peak PSS per request/s, "
                    f"LibreTranslate {_f(peer_m, 0)} ({_f(_ratio(ours_m, peer_m))}x)",
                    "met": None,
                    "reported": True,
                }
            )
    for preset, ratios7 in summarizer_ratios(results).items():
        x16 = ratios7.get("throughput_x_naive_c16")
        out.append(
            {
                "target": f"abstractive briefs at 16 clients >= 5x naive, CT2 int8 ({preset})",
                "measured": f"{_f(x16)}x",
                "met": None if x16 is None else x16 >= 5,
            }
        )
    pss = _num(_get(results, "row4", "news", "pss_serving_kb"))
    out.append(
        {
            "target": "extractive-only server <= 250 MiB at SERVING (process tree, PSS)",
            "measured": _mib(pss),
            "met": None if pss is None else pss <= 250 * 1024,
        }
    )
    cpu = _num(_get(results, "row4", "news", "load", "cpu_ms_per_brief"))
    out.append(
        {
            "target": "<= 10 ms server CPU per brief of the shared news articles (4 clients, "
            "cache off)",
            "measured": f"{_f(cpu)} ms",
            "met": None if cpu is None else cpu <= 10,
        }
    )
    hit = _num(_get(results, "row4", "cache", "p50_ms"))
    hits = _get(results, "row4", "cache", "hits")
    out.append(
        {
            "target": "cache hit p50 < 2 ms through gRPC",
            "measured": f"{_f(hit)} ms ({hits if hits is not None else 'n/a'} hits)",
            "met": None if hit is None or not hits else hit < 2,
        }
    )
    return out


def nllb_ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """CT2 int8 on the NLLB-600M shape over the M2M100-418M shape (row 2, engine alone):
    tokens/s and peak RSS at each batch size; empty when not measured."""
    row2 = results.get("row2", {})
    nllb, m2m = row2.get("ct2-nllb") or {}, row2.get("ct2") or {}
    out: dict[str, float | None] = {}
    for b in ("b1", "b8", "b16"):
        if b in nllb and b in m2m:
            out[f"tokens_per_s_nllb_x_m2m100_{b}"] = _round(
                _ratio(_get(nllb, b, "tokens_per_s"), _get(m2m, b, "tokens_per_s"))
            )
            out[f"peak_rss_nllb_x_m2m100_{b}"] = _round(
                _ratio(_get(nllb, b, "peak_rss_kb"), _get(m2m, b, "peak_rss_kb"))
            )
    return out


def render_nllb(results: dict[str, Any]) -> list[str]:
    """Row 2's NLLB-600M shape beside M2M100-418M (both CT2 int8, engine alone)."""
    row2 = results.get("row2", {})
    nllb, m2m = row2.get("ct2-nllb"), row2.get("ct2") or {}
    if not nllb:
        return []
    if "error" in nllb:
        return ["", f"- NLLB-600M shape: the probe failed: {nllb['error']}"]
    config = _get(results, "models", "nllb", "config") or {}
    lines = [
        "",
        "NLLB-600M shape beside M2M100-418M, both CTranslate2 int8, engine alone (the same "
        "probe, sentences and threads): NLLB-200-distilled-600M is M2M100's architecture with a "
        f"{_f(config.get('vocab_size'), 0)}-word vocabulary instead of 128,112, so each decode "
        "step's output projection is twice as large.",
        "",
        "| batch | M2M100-418M tokens/s | NLLB-600M tokens/s | NLLB x M2M100 | M2M100 peak RSS | "
        "NLLB peak RSS | NLLB x M2M100 RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = nllb_ratios(results)
    for b in ("b1", "b8", "b16"):
        if b not in nllb:
            continue
        lines.append(
            f"| {_get(nllb, b, 'batch')} | {_f(_get(m2m, b, 'tokens_per_s'), 1)} | "
            f"{_f(_get(nllb, b, 'tokens_per_s'), 1)} | "
            f"{_f(ratios.get(f'tokens_per_s_nllb_x_m2m100_{b}'))}x | "
            f"{_mib(_get(m2m, b, 'peak_rss_kb'))} | {_mib(_get(nllb, b, 'peak_rss_kb'))} | "
            f"{_f(ratios.get(f'peak_rss_nllb_x_m2m100_{b}'))}x |"
        )
    return lines


def summarizer_ratios(results: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Row 7: CT2 int8 micro-batched over the naive loop, per summariser shape: throughput at
    each number of clients and p50 at 1 client."""
    out: dict[str, dict[str, float | None]] = {}
    for preset, entry in (results.get("row7") or {}).items():
        naive, ct2 = entry.get("naive") or {}, entry.get("ct2") or {}
        keys = sorted((k for k in ct2 if k.startswith("c") and k[1:].isdigit()), key=_clients)
        if not keys:
            continue
        ratios: dict[str, float | None] = {}
        for key in keys:
            ratios[f"throughput_x_naive_{key}"] = _round(
                _ratio(_get(ct2, key, "throughput_rps"), _get(naive, key, "throughput_rps"))
            )
        ratios["p50_x_naive_c1"] = _round(
            _ratio(_get(ct2, "c1", "p50_ms"), _get(naive, "c1", "p50_ms"))
        )
        out[preset] = ratios
    return out


def _rounds_note(rounds: Any) -> str:
    """`` (the fastest of 3 rounds: 8.1, 8.9, 9.4 ms)`` for row 4's rounds; "" for one."""
    if not isinstance(rounds, list) or len(rounds) < 2:
        return ""
    figures = ", ".join(_f(r.get("cpu_ms_per_brief")) for r in rounds)
    return f" (the fastest of {len(rounds)} rounds: {figures} ms)"


def peer_bounds(row: dict[str, Any]) -> list[str]:
    """What bounds newsbrief's ratio over LibreTranslate, from this run's measurements."""
    out: list[str] = []
    engine = row.get("engine_alone") or {}
    b1 = _num(_get(engine, "b1", "tokens_per_s"))
    if b1:
        gains = ", ".join(
            f"batch {_get(engine, b, 'batch')} {_f(_ratio(_get(engine, b, 'tokens_per_s'), b1))}x"
            for b in ("b8", "b16")
            if b in engine
        )
        threads = engine.get("threads", 2)
        same = ", the requests' sentences" if engine.get("texts") == "numbered" else ""
        rounds = _get(engine, "b8", "rounds") or 1
        timed = (
            f", each batch of 8 and 16 run once untimed, then the fastest of {rounds} rounds"
            if rounds > 1
            else ""
        )
        out.append(
            f"- The engine alone (CT2 int8, beam {engine.get('beam')}, one process, {threads} "
            f"thread{'s' if threads != 1 else ''}, as one replica of newsbrief's layout{same}"
            f"{timed}): "
            f"{_f(b1, 1)} tokens/s at batch 1; batching gives {gains} the tokens/s of batch 1. "
            "With beam search every text is already decoded as several hypotheses at once, so "
            "batching texts gains less than with greedy decoding (row 2): this is the most "
            "micro-batching can add over LibreTranslate, which runs each request as its own "
            "batch of one (argos translates one request's sentences per call)."
        )
    peer, ours = row.get("libretranslate") or {}, row.get("newsbrief") or {}
    cpu_lt = _num(_get(peer, "c16", "server_cpu_s_per_request"))
    cpu_nb = _num(_get(ours, "c16", "server_cpu_s_per_request"))
    if cpu_lt and cpu_nb:
        out.append(
            f"- At 16 clients LibreTranslate spent {_f(cpu_lt, 3)} CPU-s per request and "
            f"newsbrief {_f(cpu_nb, 3)} ({_f(cpu_lt / cpu_nb)}x less work per request). With "
            "both servers keeping the two cores busy, the throughput ratio is bounded by that "
            "work ratio."
        )
    per_text = {b: _num(_get(engine, b, "cpu_s_per_text")) for b in ("b1", "b8", "b16")}
    inter = _get(row, "layouts", "newsbrief", "inter") or 1
    fill = "b8" if inter > 1 else "b16"
    filled = per_text[fill]
    if cpu_lt and filled:
        out.append(
            f"- The ceiling of that ratio at 16 clients: newsbrief's {inter} replica(s) share the "
            f"16 requests in flight, so a batch holds at most {16 // inter} texts, and the "
            f"engine alone spends {_f(filled, 3)} CPU-s per text at batch "
            f"{16 // inter} (batch 1: {_f(per_text['b1'], 3)}, batch 16: "
            f"{_f(per_text['b16'], 3)}); against LibreTranslate's {_f(cpu_lt, 3)} per request "
            f"that is at most {_f(cpu_lt / filled)}x, before any serving cost "
            "(gRPC, tokenisation, the hand-over to a worker process)."
        )
    per_batch = {c: _get(ours, f"c{c}", "texts_per_batch") for c in (1, 4, 16)}
    if per_batch[16]:
        out.append(
            "- newsbrief's translator batches during the `Translate` runs (from its /metrics): "
            + ", ".join(
                f"{_get(ours, f'c{c}', 'translator_batches'):.0f} batches of "
                f"{_f(per_batch[c], 1)} texts on average at {c} client{'s' if c > 1 else ''}"
                for c in (1, 4, 16)
                if per_batch[c]
            )
            + f" (at 16 clients a batch holds at most "
            f"{16 // (_get(row, 'layouts', 'newsbrief', 'inter') or 1)}: the 16 texts in flight "
            "shared by the replicas)."
        )
    layout = engine.get("layout") or {}
    rps_lt = _num(_get(peer, "c16", "throughput_rps"))
    rps_nb = _num(_get(ours, "c16", "throughput_rps"))
    ceiling = _num(layout.get("texts_per_s"))
    if ceiling and rps_lt and rps_nb:
        share = layout.get("texts", 16) // max(layout.get("replicas", 1), 1)
        out.append(
            f"- The same ceiling in texts per second: the engine alone in newsbrief's layout "
            f"({layout.get('replicas')} replica(s) x {layout.get('threads')} thread(s), one "
            f"process, nothing else running), given the {layout.get('texts')} texts of 16 clients "
            f"at once (a batch of {share} on each replica), translated "
            f"{_f(ceiling)} texts/s ({_f(_get(layout, 'cpu_s_per_text'), 3)} CPU-s per text; "
            f"the fastest of {layout.get('rounds')} rounds): {_f(ceiling / rps_lt)}x "
            f"LibreTranslate's {_f(rps_lt, 3)} requests/s at 16 clients. newsbrief's "
            f"`Translate` answered {_f(rps_nb, 3)} requests/s, {_f(100 * rps_nb / ceiling, 0)}% "
            "of what its engine alone does with the same texts in flight."
        )
    cpu_lt1 = _num(_get(peer, "c1", "server_cpu_s_per_request"))
    if cpu_lt1 and filled and per_text["b1"]:
        sweep_lt = [
            _num(_get(point, "c16", "server_cpu_s_per_request"))
            for point in _get(row, "sweep", "libretranslate") or []
            if point.get("layout") == _get(row, "layouts", "libretranslate")
        ]
        moved = (
            f" (LibreTranslate's own cost per request at 16 clients was {_f(sweep_lt[0], 3)} in "
            f"the sweep and {_f(cpu_lt, 3)} here, in the same layout)"
            if sweep_lt and sweep_lt[0] and cpu_lt
            else ""
        )
        out.append(
            "- The same bound from the engine's own costs, both taken by one probe in one "
            f"process: LibreTranslate at 1 client spent {_f(cpu_lt1, 3)} CPU-s per request, "
            f"{_f(cpu_lt1 / per_text['b1'])}x the engine's {_f(per_text['b1'], 3)} at batch 1, so "
            "it runs each request at about the engine's batch-1 cost, and newsbrief's best at 16 "
            f"clients is the engine's batch-{16 // inter} cost. The engine's own gain from "
            f"batching {16 // inter} texts at this beam (its batch-1 cost over its batch-"
            f"{16 // inter} cost) is {_f(per_text['b1'] / filled)}x: what newsbrief can reach "
            "over LibreTranslate at 16 clients on these cores. The two ceilings above divide "
            f"figures taken at different moments of a shared host{moved}."
        )
    peak_nb, peak_lt = _num(ours.get("peak_pss_kb")), _num(peer.get("peak_pss_kb"))
    ready_nb, ready_lt = _num(ours.get("pss_serving_kb")), _num(peer.get("pss_serving_kb"))
    if peak_nb and peak_lt and ready_nb and ready_lt:
        batch = _get(row, "layouts", "newsbrief", "max_batch_size")
        out.append(
            f"- Memory (PSS of the process tree): newsbrief loads the model before SERVING "
            f"({_mib(ready_nb)} at SERVING, peak {_mib(peak_nb)}: {_mib(peak_nb - ready_nb)} of "
            "working memory), LibreTranslate on its first request "
            f"({_mib(ready_lt)} when ready, peak {_mib(peak_lt)}: {_mib(peak_lt - ready_lt)} "
            "for the model and its working memory). A batch of b texts at beam k decodes b x k "
            "hypotheses at once, each with its own attention caches over the source: float32 "
            "keys and values of every decoder layer (self- and cross-attention) for each source "
            "and target token, 2 x 12 layers x 1,024 x 4 bytes = 96 KiB per hypothesis and token "
            "for M2M100-418M, about 21 MiB per sentence (about 40 source + 16 target tokens) at "
            f"beam 4. newsbrief's batches of up to {batch if batch else 'max_batch_size'} texts "
            "(times inter_threads batches at once) hold that many; LibreTranslate's calls are "
            "batches of one."
        )
    return ["", *out] if out else []


def render_row7(results: dict[str, Any]) -> list[str]:
    """Section 7: abstractive briefs."""
    row = results.get("row7")
    if not row:
        return []
    plan = results.get("plan", {})
    lines = [
        "",
        "## 7. Abstractive briefs: CTranslate2 int8 micro-batched vs naive per-article generate()",
        "",
        "Random-weight summarisers with the published shapes, each request a unique English "
        "article (the fixture naming a district, about 160 words) briefed with "
        "`method=abstractive` and no translation; exactly "
        f"{plan.get('summary_tokens')} summary tokens generated per article (min = max new "
        "tokens), greedy. *naive*: the transformers engine (torch fp32, "
        f"{plan.get('torch_threads')} threads) with one article per `generate()` call, one "
        "at a time (batch size 1, one worker). *CT2 int8*: the CTranslate2 engine behind the "
        f"micro-batcher (inter_threads {plan.get('ct2_inter_threads')} x intra_threads "
        f"{plan.get('ct2_intra_threads')}, the project's batching defaults), with the CT2 "
        "M2M100-418M translator loaded in the same server (its peak RSS is that of the "
        "summariser and translator together). Both servers are up together; runs alternate by "
        "number of clients. Random weights write junk, so the faithfulness guard rejects the "
        "model's brief and the extractive one is served: the summariser's work is what is "
        "measured (every answer reported the `abstractive` stage).",
        "",
        "| summariser shape | engine | clients | done/requested | req/s | x naive | p50 ms | "
        "p95 ms | server CPU s/req | other load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    memory: list[str] = []
    for preset, entry in row.items():
        params = _f(entry.get("parameters"), 0)
        label = f"{preset} ({entry.get('source')}, {params} parameters)"
        if entry.get("error") and not entry.get("ct2"):
            lines.append(f"| {label} | - | - | - | - | - | - | - | - | {entry['error']} |")
            continue
        naive = entry.get("naive") or {}
        for engine, name in (("naive", "naive, torch fp32"), ("ct2", "CT2 int8, batched")):
            e = entry.get(engine) or {}
            for key in sorted(
                (k for k in e if k.startswith("c") and k[1:].isdigit()), key=_clients
            ):
                r = e[key]
                x = _ratio(r.get("throughput_rps"), _get(naive, key, "throughput_rps"))
                lines.append(
                    f"| {label} | {name} | {r.get('concurrency')} | "
                    f"{r.get('completed')}/{r.get('requested')} | "
                    f"{_f(r.get('throughput_rps'), 3)} | {_f(x)}x | {_f(r.get('p50_ms'), 0)} | "
                    f"{_f(r.get('p95_ms'), 0)} | {_f(r.get('server_cpu_s_per_request'), 2)} | "
                    f"{_share(r)} |"
                )
            memory.append(
                f"| {preset} | {name}{' + M2M100 translator' if engine == 'ct2' else ''} | "
                f"{_f(e.get('serving_s'))} | {_mib(e.get('rss_serving_kb'))} | "
                f"{_mib(e.get('rss_after_load_kb'))} | {_mib(e.get('peak_rss_kb'))} |"
            )
        if entry.get("error"):
            lines.append(f"| {label} | incomplete | | | | | | | | {entry['error']} |")
    lines += row7_bounds(row)
    lines += [
        "",
        "| summariser shape | server | start to SERVING s | RSS at SERVING | RSS after the load | "
        "peak RSS |",
        "|---|---|---|---|---|---|",
        *memory,
    ]
    return lines


def row7_bounds(row: dict[str, Any]) -> list[str]:
    """What bounds each summariser's ratio over the naive loop: server CPU per brief."""
    out: list[str] = []
    for preset, entry in row.items():
        ct2, naive = entry.get("ct2") or {}, entry.get("naive") or {}
        one = _num(_get(ct2, "c1", "server_cpu_s_per_request"))
        many = _num(_get(ct2, "c16", "server_cpu_s_per_request"))
        base = _num(_get(naive, "c16", "server_cpu_s_per_request"))
        if not (one and many and base):
            continue
        out.append(
            f"- {preset}: CTranslate2 spent {_f(one, 2)} CPU-s per brief at 1 client and "
            f"{_f(many, 2)} at 16 (batching saved {_f(100 * (1 - many / one), 0)}%), the naive "
            f"loop {_f(base, 2)}: with both servers keeping the cores busy the ratio at 16 "
            f"clients is bounded by {_f(base / many)}x."
        )
    if out:
        out.append(
            "- Batching helps where decoding dominates (each step of a batch is one matrix "
            "product instead of several); an article's encoding is already one product over its "
            "~200 tokens, so a summariser whose encoder outweighs its decoder (distilbart-cnn: "
            "12 encoder layers over the article, 6 decoder layers over 32 tokens) gains little "
            "from it, and its ratio over the naive loop stays near int8's own gain over fp32."
        )
    return ["", *out] if out else []


def peer_ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """newsbrief ``Translate`` over LibreTranslate (row 6): throughput and p50 at each number
    of clients, and peak RSS after all runs; empty when row 6 was not measured."""
    row = results.get("row6") or {}
    ours, peer = row.get("newsbrief") or {}, row.get("libretranslate") or {}
    if not any(k.startswith("c") for k in peer):
        return {}
    out: dict[str, float | None] = {}
    for key in sorted((k for k in peer if k.startswith("c") and k[1:].isdigit()), key=_clients):
        out[f"throughput_x_libretranslate_{key}"] = _round(
            _ratio(_get(ours, key, "throughput_rps"), _get(peer, key, "throughput_rps"))
        )
        out[f"p50_x_libretranslate_{key}"] = _round(
            _ratio(_get(ours, key, "p50_ms"), _get(peer, key, "p50_ms"))
        )
    # the tree's sampled peak of summed RSS where measured, else the summed VmHWM
    rss = "peak_rss_sampled_kb" if "peak_rss_sampled_kb" in peer else "peak_rss_kb"
    out["peak_rss_x_libretranslate"] = _round(_ratio(ours.get(rss), peer.get(rss)))
    if "peak_pss_kb" in peer:
        out["peak_pss_x_libretranslate"] = _round(
            _ratio(ours.get("peak_pss_kb"), peer.get("peak_pss_kb"))
        )
        out["pss_mib_per_rps_x_libretranslate"] = _round(
            _ratio(ours.get("pss_mib_per_rps"), peer.get("pss_mib_per_rps"))
        )
    return out


def _clients(key: str) -> int:
    return int(key[1:])


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


PSS_NOTE = (
    "Memory is that of each server's whole process tree, sampled every 0.25 s: PSS (each "
    "page divided among the processes that map it) and RSS summed over the processes; summed "
    "RSS counts a page once per process that maps it, so it overcounts newsbrief's worker "
    "processes, which share their fork server's pages (the language models) copy-on-write "
    "(LibreTranslate is one process: its two figures differ only by the libraries it shares "
    "with other programs)."
)


def _layout_label(layout: dict[str, Any] | None, server: str) -> str:
    """A layout in words (``server``: newsbrief or libretranslate)."""
    if not layout:
        return "n/a"
    text = f"CTranslate2 inter_threads {layout.get('inter')} x intra_threads {layout.get('intra')}"
    if server == "newsbrief":
        return (
            f"{text}, max_batch_size {layout.get('max_batch_size')}, "
            f"{layout.get('workers')} pipeline worker process(es)"
        )
    return f"{text}, {layout.get('threads')} waitress threads"


def render_sweep(row: dict[str, Any]) -> list[str]:
    """Section 6.1: every layout of the sweep, the chosen one of each server marked."""
    sweep = row.get("sweep")
    if not sweep:
        return []
    best = sweep.get("best") or {}
    cap = _num(sweep.get("memory_cap_kb"))
    lines = [
        "",
        "### 6.1 Thread layouts swept",
        "",
        "Each point: the server started alone in that layout, warmed up (one request, then 16 at "
        f"16 clients), then {sweep.get('requests_c16')} requests at 16 clients (throughput) and "
        f"{sweep.get('requests_c1')} at 1 client (p50), the same beam, forced length and kind of "
        "text as 6.2. newsbrief: CTranslate2 `inter_threads` x `threads` (intra), "
        "`batching.max_batch_size`, `workers` (pipeline worker processes); LibreTranslate: "
        "`ARGOS_INTER_THREADS` x `ARGOS_INTRA_THREADS` (argostranslate's settings, read by its "
        "`ctranslate2.Translator`) and waitress `--threads`. The criterion, the same for both: "
        "the highest throughput at 16 clients (within "
        f"{_f((_num(sweep.get('tie')) or 0) * 100, 0)}% of it is a tie, broken by the lower p50 "
        "at 1 client); for newsbrief only among the layouts whose peak PSS is within the best "
        f"LibreTranslate layout's ({_mib(cap)}; all layouts when none is). Worker counts are "
        "tried at the best CTranslate2 layout only (they run the text stages, not the model): "
        "another count replaces it only when its peak PSS is lower by more than the tie at a "
        "throughput within the tie.",
        "",
        "| server | layout | req/s at 16 | p50 ms at 1 | peak PSS | peak RSS summed | "
        "MiB PSS per req/s | server CPU s/req at 16 | other load | |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"libretranslate": "LibreTranslate", "newsbrief": "newsbrief"}
    for name, label in names.items():
        for p in sweep.get(name) or []:
            chosen = p.get("layout") == best.get(name)
            over = cap is not None and name == "newsbrief" and (p.get("peak_pss_kb") or 0) > cap
            mark = "**chosen**" if chosen else ("over the memory cap" if over else "")
            if p.get("error"):
                mark = f"failed: {p['error'][:80]}"
            lines.append(
                f"| {label} | {p.get('label')} | {_f(_get(p, 'c16', 'throughput_rps'), 3)} | "
                f"{_f(_get(p, 'c1', 'p50_ms'), 0)} | {_mib(p.get('peak_pss_kb'))} | "
                f"{_mib(p.get('peak_rss_sampled_kb'))} | {_f(p.get('pss_mib_per_rps'), 0)} | "
                f"{_f(_get(p, 'c16', 'server_cpu_s_per_request'), 3)} | "
                f"{_share(p.get('c16') or {})} | {mark} |"
            )
    lines += [
        "",
        "Layouts: `2x1 b8 w2` = inter 2 x intra 1, max_batch_size 8, 2 worker processes; "
        "`2x1 t16` = inter 2 x intra 1, 16 waitress threads. " + PSS_NOTE,
        "",
        f"Chosen: newsbrief {_layout_label(best.get('newsbrief'), 'newsbrief')}; LibreTranslate "
        f"{_layout_label(best.get('libretranslate'), 'libretranslate')} (sweep "
        f"{_f(sweep.get('wall_s'), 0)} s).",
    ]
    return lines


def render_row6(results: dict[str, Any]) -> list[str]:
    """Section 6: the sweep of thread layouts, then newsbrief beside LibreTranslate."""
    row = results.get("row6")
    if not row:
        return []
    plan = results.get("plan", {})
    layouts = row.get("layouts") or {}
    ours_l = layouts.get("newsbrief") or {
        "inter": plan.get("ct2_inter_threads"),
        "intra": plan.get("ct2_intra_threads"),
        "max_batch_size": _get(results, "batching", "max_batch_size"),
        "workers": "the default",
    }
    peer_l = layouts.get("libretranslate") or {
        "inter": plan.get("ct2_inter_threads"),
        "intra": plan.get("ct2_intra_threads"),
        "threads": plan.get("peer_threads"),
    }
    lines = [
        "",
        "## 6. newsbrief beside LibreTranslate (same model, beam, length, texts; each at its "
        "best thread layout)",
        "",
        f"LibreTranslate {row.get('libretranslate_version')} (its own venv, waitress) and "
        "newsbrief (`newsbrief-server`, CTranslate2 engine) serve the same random-weight "
        "M2M100-418M CTranslate2 int8 model: "
        f"beam {row.get('beam')}, exactly {plan.get('new_tokens')} tokens per translation "
        "(target-language token included; min = max on both sides), the "
        "same source tokens (the argos package's `config.json` adds `__en__` and `</s>` as "
        "newsbrief's tokenizer does). Each request is one unique English news sentence into "
        "Korean (LibreTranslate `POST /translate`, newsbrief `Translate` over gRPC). newsbrief "
        "runs as a translation service whose callers name the source language: "
        "`language_models_at_start = false` (no language-detection model loaded until a call "
        "needs one; LibreTranslate likewise detects only for `source: auto`).",
    ]
    lines += render_sweep(row)
    if not any(k.startswith("c") for k in row.get("newsbrief") or {}):
        if row.get("error"):
            lines += ["", f"- Not run or incomplete: {row['error']}"]
        return lines
    lines += [
        "",
        "### 6.2 The best layouts compared at 1, 4 and 16 clients",
        "",
        f"newsbrief {_layout_label(ours_l, 'newsbrief')}; LibreTranslate "
        f"{_layout_label(peer_l, 'libretranslate')}. Both "
        "servers are up together and at each number of clients their runs alternate in order. "
        "The translated-brief rows are newsbrief `Summarize` with Korean "
        f"({results.get('brief_options', {}).get('max_sentences', 1)}-sentence brief: headline, "
        "summary sentence and key point translated) on the same server, after the Translate "
        "runs (the peaks below are over the Translate runs).",
        "",
        "| server | clients | done/requested | req/s | x LibreTranslate | p50 ms | p95 ms | "
        "server CPU s/req | other load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    peer = row.get("libretranslate") or {}
    labels = {
        "libretranslate": "LibreTranslate `/translate`",
        "newsbrief": "newsbrief `Translate`",
        "brief": "newsbrief `Summarize` + ko (3 texts)",
    }
    for name, label in labels.items():
        entry = row.get(name) or {}
        for key in sorted(
            (k for k in entry if k.startswith("c") and k[1:].isdigit()), key=_clients
        ):
            e = entry[key]
            x = (
                _ratio(e.get("throughput_rps"), _get(peer, key, "throughput_rps"))
                if name != "brief"
                else None
            )
            lines.append(
                f"| {label} | {e.get('concurrency')} | {e.get('completed')}/{e.get('requested')} | "
                f"{_f(e.get('throughput_rps'), 3)} | {_f(x)}{'x' if x is not None else ''} | "
                f"{_f(e.get('p50_ms'), 0)} | {_f(e.get('p95_ms'), 0)} | "
                f"{_f(e.get('server_cpu_s_per_request'), 3)} | {_share(e)} |"
            )
    lines += [
        "",
        "| server | start to ready s | RSS at ready | PSS at ready | peak PSS | x LT | "
        "peak RSS summed | x LT | sum of VmHWM | MiB PSS per req/s at 16 | x LT |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def to_lt(e: dict[str, Any], key: str) -> str:
        r = _ratio(e.get(key), peer.get(key))
        return f"{_f(r)}x" if r is not None else "n/a"

    for name in ("libretranslate", "newsbrief"):
        e = row.get(name) or {}
        lines.append(
            f"| {labels[name]} | {_f(e.get('serving_s'))} | {_mib(e.get('rss_serving_kb'))} | "
            f"{_mib(e.get('pss_serving_kb'))} | {_mib(e.get('peak_pss_kb'))} | "
            f"{to_lt(e, 'peak_pss_kb')} | {_mib(e.get('peak_rss_sampled_kb'))} | "
            f"{to_lt(e, 'peak_rss_sampled_kb')} | {_mib(e.get('peak_rss_kb'))} | "
            f"{_f(e.get('pss_mib_per_rps'), 0)} | {to_lt(e, 'pss_mib_per_rps')} |"
        )
    lines += [
        "",
        PSS_NOTE + " The sum of VmHWM adds each process's own peak (an upper bound on the "
        "tree's RSS peak, the figure earlier runs reported). CPU is summed over the tree.",
    ]
    lines += peer_bounds(row)
    dedup = row.get("dedup") or []
    if dedup:
        lines += [
            "",
            "No text translated twice: texts sent to the model per translated brief (ko + ms, "
            "default length, a short article whose key points repeat summary sentences; the "
            "newsbrief server above, result cache off). *Before* is every field of the brief per "
            "language, what was sent before the within-request dedup and the sentence cache; "
            "*after* is what the response's timings report (`translate.sent`, "
            "`translate.cached`).",
            "",
            "| brief | texts before | texts sent after | answered by the cache | "
            "translate stage ms |",
            "|---|---|---|---|---|",
        ]
        for d in dedup:
            lines.append(
                f"| {d.get('case')} | {_f(d.get('texts_before'), 0)} | "
                f"{_f(d.get('texts_sent'), 0)} | {_f(d.get('texts_cached'), 0)} | "
                f"{_f(d.get('translate_ms'), 0)} |"
            )
    if row.get("error"):
        lines += ["", f"- Not run or incomplete: {row['error']}"]
    return lines


def overhead(results: dict[str, Any]) -> dict[str, Any]:
    """Server p50 minus bare-pipeline p50 with the no-op translator; and that overhead as a share
    of each engine's translate stage (server-reported, p50 at 1 client)."""
    server = _num(_get(results, "row3", "server", "p50_ms"))
    bare = _num(_get(results, "row3", "bare", "p50_ms"))
    over = None if server is None or bare is None else max(server - bare, 0.0)
    wait0 = _delta(_get(results, "row3", "server_wait0", "p50_ms"), bare)
    shares: dict[str, float | None] = {}
    for engine in ("torch", "ct2"):
        if engine in results.get("row1", {}):
            backend = _num(_get(results, "row1", engine, "c1", "translate_stage_p50_ms"))
            shares[engine] = None if over is None or not backend else over / backend
    return {
        "server_ms": server,
        "bare_ms": bare,
        "overhead_ms": over,
        "overhead_wait0_ms": None if wait0 is None else max(wait0, 0.0),
        "shares": shares,
    }


def _delta(a: Any, b: Any) -> float | None:
    a, b = _num(a), _num(b)
    return None if a is None or b is None else a - b


def _share(entry: dict[str, Any]) -> str:
    """The share of all cores' time that other processes used during a measurement."""
    share = _num(_get(entry, "cpu", "foreign_share"))
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _texts_per_brief(results: dict[str, Any]) -> int:
    """Texts the translator generates per row-1 request: 3 per target language."""
    targets = (results.get("brief_options") or {}).get("target_languages") or ["ko"]
    return 3 * len(targets)


def _yes(met: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[met]


def render(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    plan = results.get("plan", {})
    models = results.get("models", {})
    batching = results.get("batching", {})
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    lines: list[str] = [
        "# newsbrief benchmark",
        "",
        f"Generated by `make bench` (`python -m bench.run`), started {results.get('started_utc')}, "
        f"wall time {_f(results.get('wall_s'), 0)} s (model build/convert "
        f"{_f(models.get('setup_s'), 0)} s of it). All rows come from this one run on this "
        "machine; compare ratios, not absolute figures (the machine is shared: single figures "
        "vary by 20-50%).",
        "",
        "## Machine and set-up",
        "",
        f"- CPU: {m.get('cpu_model')} from /proc/cpuinfo ({m.get('cores')} logical CPUs, "
        f"{m.get('threads_per_core')} thread(s) per core, {m.get('affinity')} usable;"
        f" SIMD: {', '.join(m.get('simd', []))}); memory {m.get('memory_gib')} GiB; "
        f"Python {m.get('python')}; {versions}.",
        f"- Model: {models.get('architecture')}, {_f(models.get('parameters'), 0)} parameters, "
        "RANDOM weights (no weights can be fetched here), vocabulary "
        f"{_get(models, 'config', 'vocab_size')}; tokenizer: a small BPE sentencepiece model with "
        "the 100 `__xx__` language tokens registered and `vocab.json` padded to the model's "
        f"vocabulary. CTranslate2 int8 conversion by {models.get('ct2_converter') or 'n/a'}.",
        f"- Forced decode length: exactly {plan.get('new_tokens')} new tokens per text "
        "(min = max new tokens; the forced language token counts as one), greedy, for every "
        "engine. Each request briefs a unique English article (the test fixture naming a "
        f"different district) with {results.get('brief_options')}: 3 texts to translate "
        "(headline, 1 summary sentence, 1 key point) into each target language "
        f"({_texts_per_brief(results)} translations per request; the languages are separate "
        "batch keys, translated side by side), source 25-35 tokens each.",
        f"- Threads: torch {plan.get('torch_threads')} intra-op; newsbrief CTranslate2 server "
        f"inter_threads {plan.get('ct2_inter_threads')} x intra_threads "
        f"{plan.get('ct2_intra_threads')}; row 2 engines use 2 threads (CT2: inter 1 x intra 2). "
        f"Micro-batcher: max batch {batching.get('max_batch_size')} texts, max wait "
        f"{batching.get('max_wait_ms')} ms (closed earlier once no text joined for "
        f"{batching.get('max_gap_ms')} ms), token budget {batching.get('max_batch_tokens')}"
        f"{' (the project defaults)' if batching.get('project_defaults') else ''}. "
        "Result cache off for rows 1 and 3.",
        f"- Requests per load run (clients: requests): {plan.get('requests')}; each run capped at "
        f"{_f(plan.get('load_cap_s'), 0)} s. Closed loop: each client sends its next request "
        "when the previous one is answered. Every server is its own process on 127.0.0.1; the "
        "three row-1 servers are up together (idle ones use no CPU) and their load runs go one "
        "at a time, by number of clients then engine, so the engines compared at one "
        "concurrency are measured close together. The load generator shares the same cores.",
        "- *other load*: the share of all cores' time used by processes outside the benchmark "
        "during that measurement (this machine is shared with other engineers' test runs); "
        "*server CPU s/req*: CPU seconds the server process spent per request. A figure taken "
        "under high other load is slowed by it; the CPU columns show by how much.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for t in targets(results):
        verdict = "reported" if t.get("reported") else _yes(t["met"])
        lines.append(f"| {t['target']} | {t['measured']} | {verdict} |")

    lines += [
        "",
        "## 1. Brief + Korean and Malay translations over gRPC: throughput and latency",
        "",
        "| engine | clients | done/requested | req/s | x naive | p50 ms | p95 ms | "
        "translate stage p50 ms | server CPU s/req | other load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    row1 = results.get("row1", {})
    for engine, entry in row1.items():
        if entry.get("error") and not any(k.startswith("c") and k[1:].isdigit() for k in entry):
            lines.append(
                f"| {ENGINE_LABEL.get(engine, engine)} | - | - | - | - | - | - | "
                f"not run: {entry['error']} |"
            )
            continue
        for c in plan.get("concurrencies", (1, 4, 16)):
            r = entry.get(f"c{c}")
            if not r:
                continue
            ratio = _ratio(r.get("throughput_rps"), _get(row1, "naive", f"c{c}", "throughput_rps"))
            errors = f" ({r['errors']} errors)" if r.get("errors") else ""
            lines.append(
                f"| {ENGINE_LABEL.get(engine, engine)} | {c} | {r['completed']}/{r['requested']}"
                f"{errors} | {_f(r.get('throughput_rps'), 3)} | {_f(ratio)}x | "
                f"{_f(r.get('p50_ms'), 0)} | {_f(r.get('p95_ms'), 0)} | "
                f"{_f(r.get('translate_stage_p50_ms'), 0)} | "
                f"{_f(r.get('server_cpu_s_per_request'), 2)} | {_share(r)} |"
            )
    lines += [
        "",
        "## 2. CTranslate2 int8 vs torch fp32, the engine alone (own process each)",
        "",
        "newsbrief's engines (`HFTranslationEngine` fp32, `CT2TranslationEngine` int8, which "
        "never imports torch), 2 threads each, the same 8 English sentences into Korean. The "
        f"probes alternate over {plan.get('probe_rounds', 1)} round(s); each batch size keeps "
        "its fastest round (all rounds are in results.json).",
        "",
        "| engine | batch | tokens/s | x torch | s per batch | tokens per text | peak RSS | "
        "x torch RSS | other load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    row2 = results.get("row2", {})
    for engine in ("torch", "ct2"):
        e = row2.get(engine)
        if not e:
            continue
        if "error" in e:
            lines.append(f"| {engine} | - | - | - | - | - | - | failed: {e['error']} |")
            continue
        for b in ("b1", "b8", "b16"):
            r = e.get(b)
            if not r:
                continue
            per_batch = _ratio(r.get("seconds"), r.get("batches"))
            lines.append(
                f"| {'torch fp32' if engine == 'torch' else 'CT2 int8'} | {r.get('batch')} | "
                f"{_f(r.get('tokens_per_s'), 1)} | "
                f"{_f(_ratio(r.get('tokens_per_s'), _get(row2, 'torch', b, 'tokens_per_s')))}x | "
                f"{_f(per_batch)} | {_f(r.get('tokens_per_seq'), 0)} | "
                f"{_mib(r.get('peak_rss_kb'))} | "
                f"{_f(_ratio(r.get('peak_rss_kb'), _get(row2, 'torch', b, 'peak_rss_kb')))}x | "
                f"{_share(e if b == 'b1' else {'cpu': e.get(f'cpu_{b}', e.get('cpu'))})} |"
            )
    lines += render_nllb(results)
    over = overhead(results)
    r3 = results.get("row3", {})
    lines += [
        "",
        "## 3. Service overhead (no-op translator: returns its input)",
        "",
        "One client, one request at a time, brief + ko (3 texts through the translator), result "
        "cache off, unique articles. The bare calls run in the benchmark process itself. "
        f"Servers and bare calls alternate over {len(results.get('row3_rounds', [])) or 1} "
        "round(s); each measurement keeps its fastest round (all rounds are in results.json). "
        "The pipeline tells the batcher how many calls are in progress, so a lone request's "
        "texts run at once (no wait for company), as with max_wait_ms = 0, where no batch ever "
        "waits: the two server rows differ only by noise.",
        "",
        "| measurement | p50 ms | p95 ms | other load |",
        "|---|---|---|---|",
    ]
    for key, label in (
        ("server", "server over gRPC, no-op backend behind the micro-batcher (max wait default)"),
        ("server_wait0", "server over gRPC, the same with max_wait_ms = 0"),
        ("bare_batched", "bare `Pipeline.brief`, no-op backend behind the micro-batcher"),
        ("bare_batched_wait0", "bare `Pipeline.brief`, the same with max_wait_ms = 0"),
        ("bare", "bare `Pipeline.brief`, no-op translator called directly (no batcher)"),
    ):
        entry = r3.get(key, {})
        if entry.get("error"):
            lines.append(f"| {label} | failed: {entry['error']} | | |")
            continue
        lines.append(
            f"| {label} | {_f(entry.get('p50_ms'), 3)} | {_f(entry.get('p95_ms'), 3)} | "
            f"{_share(entry)} |"
        )
    lines += [
        f"| **overhead** = server - bare direct (gRPC, servicer, interceptors, micro-batcher) | "
        f"**{_f(over['overhead_ms'], 3)}** | | |",
        f"| overhead with max_wait_ms = 0 | {_f(over['overhead_wait0_ms'], 3)} | | |",
        "",
        "- Split of the overhead (p50 differences): the micro-batcher (its wait for more items "
        "while a worker is free, and the hand-off to its worker thread and back) "
        f"{_f(_delta(_get(r3, 'bare_batched', 'p50_ms'), _get(r3, 'bare', 'p50_ms')), 3)} ms "
        "(with max_wait_ms = 0: "
        f"{_f(_delta(_get(r3, 'bare_batched_wait0', 'p50_ms'), _get(r3, 'bare', 'p50_ms')), 3)}"
        " ms); gRPC, servicer and interceptors "
        f"{_f(_delta(_get(r3, 'server', 'p50_ms'), _get(r3, 'bare_batched', 'p50_ms')), 3)} ms.",
        "- Inside the server, the pipeline's own reported total was p50 "
        f"{_f(_get(r3, 'server', 'pipeline_total_p50_ms'), 3)} ms (max_wait_ms = 0: "
        f"{_f(_get(r3, 'server_wait0', 'pipeline_total_p50_ms'), 3)} ms): the rest of the "
        "server's latency is the client, the loopback transport, the servicer, converters and "
        "interceptors.",
    ]
    for engine, share in over["shares"].items():
        backend = _get(results, "row1", engine, "c1", "translate_stage_p50_ms")
        lines.append(
            f"- As a share of the {ENGINE_LABEL[engine]}'s translate stage for a brief "
            f"({_f(backend, 0)} ms p50 at 1 client): {_f(share * 100 if share else None, 3)}%."
        )
    if r3.get("error"):
        lines.append(f"- Server run failed: {r3['error']}")
    r4 = results.get("row4", {})
    ex = r4.get("extractive", {})
    cache = r4.get("cache", {})
    lines += [
        "",
        "## 4. Extractive briefs and cache hits through the server",
        "",
        f"- Extractive briefs (default length, unique articles): {_f(ex.get('throughput_rps'), 1)} "
        f"briefs/s at {ex.get('concurrency')} clients ({ex.get('completed')}/{ex.get('requested')}"
        f" done, {ex.get('errors')} errors); p50 {_f(ex.get('p50_ms'), 2)} ms, p95 "
        f"{_f(ex.get('p95_ms'), 2)} ms.",
        f"- Cache hits (the same request {cache.get('requests')} times, one at a time): "
        f"{cache.get('hits')} reported `cached`; p50 {_f(cache.get('p50_ms'), 3)} ms, p95 "
        f"{_f(cache.get('p95_ms'), 3)} ms.",
    ]
    if r4.get("error"):
        lines.append(f"- Failed: {r4['error']}")
    news = r4.get("news", {})
    nload = news.get("load", {})
    if news.get("error"):
        lines.append(f"- Shared news articles: not measured ({news['error']}).")
    elif nload:
        lines.append(
            f"- The shared news articles (`summarisation/` and `non_english/`, "
            f"{nload.get('done')} briefs, {news.get('clients')} clients, result cache off, load "
            f"average {nload.get('load', ['?'])[0]}): {_f(nload.get('cpu_ms_per_brief'))} ms of "
            f"server CPU per brief{_rounds_note(news.get('rounds'))} (process tree; the server "
            "process alone "
            f"{_f(nload.get('main_process_cpu_ms_per_brief'))} ms), "
            f"{_f(nload.get('briefs_per_s'), 1)} briefs/s. Memory of the process tree at SERVING "
            f"{_mib(news.get('pss_serving_kb'))} PSS ({_mib(news.get('rss_serving_kb'))} RSS "
            f"summed: pages the workers share with their fork server counted in each), after "
            f"the load {_mib(news.get('pss_after_load_kb'))} PSS; "
            f"{_f(_ratio(news.get('pss_after_load_kb'), 1024 * (nload.get('briefs_per_s') or 0)))}"
            " MiB per (brief/s)."
        )
    lines += [
        "",
        "## 5. Start-up and memory",
        "",
        "| server | start to SERVING s | RSS at SERVING | RSS after the load | peak RSS | "
        "model's share (RSS after load - extractive) |",
        "|---|---|---|---|---|---|",
        f"| extractive only (no translator) | {_f(r4.get('serving_s'))} | "
        f"{_mib(r4.get('rss_serving_kb'))} | {_mib(r4.get('rss_after_load_kb'))} | n/a | - |",
    ]
    base = _num(r4.get("rss_after_load_kb"))
    for engine, entry in row1.items():
        after = _num(entry.get("rss_after_load_kb"))
        share = None if after is None or base is None else after - base
        lines.append(
            f"| {ENGINE_LABEL.get(engine, engine)} | {_f(entry.get('serving_s'))} | "
            f"{_mib(entry.get('rss_serving_kb'))} | {_mib(entry.get('rss_after_load_kb'))} | "
            f"{_mib(entry.get('peak_rss_kb'))} | {_mib(share)} |"
        )
    lines += render_row6(results)
    lines += render_row7(results)
    lines += ["", "## What bounds the figures (measured)", ""]
    lines += [f"- {n}" for n in analysis(results)]
    notes = results.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def analysis(results: dict[str, Any]) -> list[str]:
    """Sentences derived from the measurements: bandwidth bounds, what limits unmet targets."""
    out: list[str] = []
    m = results.get("machine", {})
    models = results.get("models", {})
    row1, row2 = results.get("row1", {}), results.get("row2", {})
    bw = _num(m.get("memory_bandwidth_gbs"))
    weights = _num(models.get("decode_step_weights"))
    if bw and weights:
        fp32 = bw * 1e9 / (weights * 4)
        int8 = bw * 1e9 / (weights * 1)
        out.append(
            f"Memory bandwidth measured here (numpy copy, read + write): {bw:.1f} GB/s. A greedy "
            f"decode step reads about {weights / 1e6:.0f}M weights (decoder layers + the "
            f"{_get(models, 'config', 'vocab_size')}-word output projection), so at batch 1 "
            f"fp32 is bounded near {fp32:.1f} tokens/s and int8 near {int8:.1f} tokens/s; "
            f"measured (row 2): torch fp32 {_f(_get(row2, 'torch', 'b1', 'tokens_per_s'), 1)}, "
            f"CT2 int8 {_f(_get(row2, 'ct2', 'b1', 'tokens_per_s'), 1)}. Batching reuses each "
            "weight read for every sequence of the batch, which is where the rest of the gain "
            "comes from."
        )
    for engine in ("torch", "ct2"):
        b1 = _num(_get(row2, engine, "b1", "tokens_per_s"))
        gains = [
            f"batch {n} gives {x / b1:.1f}x"
            for n in (8, 16)
            if b1 and (x := _num(_get(row2, engine, f"b{n}", "tokens_per_s")))
        ]
        if gains:
            label = "torch fp32" if engine == "torch" else "CT2 int8"
            text = f"{label}: {' and '.join(gains)} the tokens/s of batch 1 (row 2)"
            b16 = _num(_get(row2, engine, "b16", "tokens_per_s"))
            if weights and b16:
                text += (
                    f"; at batch 16 that is {b16 * 2 * weights / 1e9:.0f} G(FL)OP/s of decoder work"
                )
            if engine == "torch" and b1 and b16 and b16 / b1 < 10:
                text += (
                    ". The naive loop runs at batch 1, so even a perfectly fed torch batch of 16 "
                    "is less than 10x its throughput: on this machine the torch fp32 engine "
                    "cannot reach the 10x target by batching alone; int8 (CTranslate2) is what "
                    "gets there"
                )
            out.append(text + ".")
    new_tokens = _num(results.get("plan", {}).get("new_tokens"))
    if weights and new_tokens:
        parts = []
        for engine in ("naive", "torch", "ct2"):
            rps = _num(_get(row1, engine, "c16", "throughput_rps"))
            if rps:
                # 3 texts per target language, each exactly new_tokens
                tps = rps * _texts_per_brief(results) * new_tokens
                parts.append(
                    f"{ENGINE_LABEL[engine]} {tps:.0f} tokens/s = "
                    f"{tps * 2 * weights / 1e9:.0f} G(FL)OP/s of decoder work"
                )
        if parts:
            out.append(
                f"Generated tokens at 16 clients ({_texts_per_brief(results)} texts x the forced "
                "length per brief): "
                + "; ".join(parts)
                + f". For scale: numpy's fp32 matrix product reached "
                f"{_f(m.get('fp32_gemm_gflops'), 0)} GFLOP/s on this machine at the start of "
                "the run. Batching moves a decoder from the bandwidth bound towards the compute "
                "bound; the encoder, attention, the per-step work of generate() and the other "
                "load take the rest."
            )
    naive_cpu = _num(_get(row1, "naive", "c16", "server_cpu_s_per_request"))
    for engine in ("torch", "ct2"):
        cpu = _num(_get(row1, engine, "c16", "server_cpu_s_per_request"))
        thr = _ratio(
            _get(row1, engine, "c16", "throughput_rps"),
            _get(row1, "naive", "c16", "throughput_rps"),
        )
        if cpu and naive_cpu:
            out.append(
                f"At 16 clients the {ENGINE_LABEL[engine]} spent {cpu:.2f} CPU-s per request "
                f"against the naive baseline's {naive_cpu:.2f} ({naive_cpu / cpu:.1f}x less "
                f"work per request); its throughput ratio was {_f(thr)}x. Where the ratio is "
                "below 10x, that CPU cost per request (the engine's compute at the batch sizes "
                "reached, on 2 cores) is the bound."
            )
    over = overhead(results)
    if over["overhead_ms"] is not None and over["overhead_ms"] >= 3:
        out.append(
            f"The no-op overhead ({over['overhead_ms']:.2f} ms) is the loopback gRPC call, the "
            "servicer, converters and interceptors, and the thread hand-offs of the micro-batcher "
            "(split in row 3), plus the server process sharing the 2 cores with the load "
            "generator (a lone request does not wait for company: the pipeline tells the "
            f"batcher it is alone); with max_wait_ms = 0 it was {_f(over['overhead_wait0_ms'])} "
            "ms. On a loaded machine each thread hand-off also waits for a core."
        )
    shares = [
        _num(_get(e, "cpu", "foreign_share"))
        for e in [
            *(v for entry in row1.values() for k, v in entry.items() if k.startswith("c")),
            *row2.values(),
            *results.get("row3", {}).values(),
        ]
        if isinstance(e, dict)
    ]
    known = [x for x in shares if x is not None]
    if known:
        out.append(
            f"Other processes used {min(known) * 100:.0f}-{max(known) * 100:.0f}% of the "
            "machine's CPU time during the measurements (mean "
            f"{sum(known) / len(known) * 100:.0f}%): absolute figures are slowed by it, and "
            "torch's two intra-op threads suffer most from sharing the cores; ratios taken in "
            "the same run are what to compare."
        )
    return out


def write(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    results = dict(results)
    results["targets"] = targets(results)
    if nllb_ratios(results):
        results["row2"] = dict(results["row2"]) | {"nllb_vs_m2m100": nllb_ratios(results)}
    if summarizer_ratios(results):
        results["row7"] = {
            preset: dict(entry) | {"ratios": summarizer_ratios(results).get(preset, {})}
            for preset, entry in results["row7"].items()
        }
    if peer_ratios(results):
        results["row6"] = dict(results["row6"]) | {"ratios": peer_ratios(results)}
    (out_dir / "results.json").write_text(
        json.dumps(results, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    (out_dir / "RESULTS.md").write_text(render(results), encoding="utf-8")
