"""The benchmark's load generator and report writer on fakes (no models, no timing asserts)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bench.report import peer_bounds, targets, write
from bench.run import fewer_workers_win, parse_args, pick_layout
from tests.harness.load import percentile, run_load


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) != percentile([], 50)  # NaN


def test_load_generator_counts_calls_and_errors() -> None:
    seen: list[int] = []

    async def call(i: int) -> None:
        seen.append(i)
        await asyncio.sleep(0)
        if i % 5 == 4:
            raise RuntimeError("boom")

    result = asyncio.run(
        run_load(call, requests=20, concurrency=4, max_seconds=30, call_timeout_s=5)
    )
    assert sorted(seen) == list(range(20))
    assert result.completed == 16 and len(result.errors) == 4 and result.skipped == 0
    summary = result.summary()
    assert summary["requested"] == 20 and summary["errors"] == 4


def test_load_generator_stops_at_its_time_cap() -> None:
    async def call(i: int) -> None:
        await asyncio.sleep(0)

    result = asyncio.run(
        run_load(call, requests=1000, concurrency=2, max_seconds=0, call_timeout_s=5)
    )
    assert result.completed == 0 and result.skipped == 1000


def test_load_generator_cuts_slow_calls() -> None:
    async def call(i: int) -> None:
        await asyncio.sleep(10)

    result = asyncio.run(
        run_load(call, requests=2, concurrency=2, max_seconds=30, call_timeout_s=0.01)
    )
    assert result.completed == 0 and len(result.errors) == 2


def _fake_results() -> dict[str, object]:
    def load(rps: float, p95: float, stage: float) -> dict[str, object]:
        return {
            "concurrency": 1,
            "requested": 4,
            "completed": 4,
            "errors": 0,
            "throughput_rps": rps,
            "p50_ms": p95 / 2,
            "p95_ms": p95,
            "translate_stage_p50_ms": stage,
            "cpu": {"foreign_share": 0.1},
        }

    return {
        "machine": {"cpu_model": "fake", "cores": 2},
        "plan": {"new_tokens": 16, "concurrencies": [1, 4, 16]},
        "row1": {
            "naive": {"c1": load(1, 100, 90), "c4": load(1, 400, 90), "c16": load(1, 1600, 90)},
            "ct2": {"c1": load(2, 50, 40), "c4": load(8, 60, 40), "c16": load(12, 300, 40)},
            "torch": {"name": "torch", "error": "translator not ready: absent"},
        },
        "row2": {
            "torch": {"b1": {"batch": 1, "tokens_per_s": 10, "peak_rss_kb": 2000}},
            "ct2": {"b1": {"batch": 1, "tokens_per_s": 25, "peak_rss_kb": 900}},
        },
        "row3": {"server": {"p50_ms": 4.0}, "bare": {"p50_ms": 2.5}},
        "row4": {"cache": {"p50_ms": 1.0, "hits": 10}},
    }


def test_targets_are_judged_from_the_measurements() -> None:
    verdicts = {t["target"]: t["met"] for t in targets(_fake_results())}
    assert verdicts["throughput at 16 clients >= 10x naive (ct2)"] is True
    assert verdicts["p95 at 16 clients <= naive p95 at 4 (ct2)"] is True
    assert verdicts["CT2 int8 vs torch fp32, batch 1: >= 2x tokens/s"] is True
    assert verdicts["CT2 int8 vs torch fp32, batch 1: peak RSS <= 0.5x"] is True
    assert verdicts["service overhead p50 (no-op backend) < 3 ms"] is True
    assert verdicts["cache hit p50 < 2 ms through gRPC"] is True
    assert verdicts["throughput at 16 clients >= 10x naive (torch)"] is None


def test_report_writer_writes_markdown_and_json(tmp_path: Path) -> None:
    write(_fake_results(), tmp_path)
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert "## Targets" in text and "## 1." in text and "not run: translator not ready" in text
    assert data["targets"] and data["row1"]["ct2"]["c16"]["throughput_rps"] == 12


NB_2X1_B8 = {"inter": 2, "intra": 1, "max_batch_size": 8, "workers": 2}


def _point(
    layout: dict[str, int], label: str, rps: float, p50: float, pss_kb: int
) -> dict[str, object]:
    return {
        "layout": layout,
        "label": label,
        "c16": {"throughput_rps": rps},
        "c1": {"p50_ms": p50},
        "peak_pss_kb": pss_kb,
        "peak_rss_sampled_kb": pss_kb + 300,
    }


def test_the_sweep_picks_the_fastest_layout_within_the_memory_cap() -> None:
    a = _point(NB_2X1_B8, "a", 7.0, 900, 900)
    b = _point(NB_2X1_B8, "b", 7.2, 700, 950)  # a tie with c (within 5%), lower p50
    c = _point(NB_2X1_B8, "c", 7.4, 800, 990)
    d = _point(NB_2X1_B8, "d", 9.0, 500, 1200)  # fastest, over the cap
    failed = {"layout": NB_2X1_B8, "label": "e", "error": "boom"}
    assert pick_layout([a, b, c, d, failed], 0.05, memory_cap_kb=1000) is b
    assert pick_layout([a, b, c, d], 0.05) is d  # no cap
    assert pick_layout([d], 0.05, memory_cap_kb=1000) is d  # none within: the fastest
    assert pick_layout([failed], 0.05) is None


def test_another_worker_count_wins_only_by_memory() -> None:
    best = _point(NB_2X1_B8, "w2", 7.0, 500, 1000)
    faster = _point(NB_2X1_B8, "w1", 8.0, 500, 990)  # faster, same memory: noise, not chosen
    leaner = _point(NB_2X1_B8, "w1", 6.9, 500, 900)
    slower = _point(NB_2X1_B8, "w1", 6.0, 500, 900)
    assert not fewer_workers_win(faster, best, 0.05)
    assert fewer_workers_win(leaner, best, 0.05)
    assert not fewer_workers_win(slower, best, 0.05)


def test_quick_runs_a_sweep_of_one_point_per_server() -> None:
    plan, _ = parse_args(["--quick", "--ct2-threads", "1x2"])
    assert len(plan.sweep_newsbrief) == 1 and len(plan.sweep_libretranslate) == 1
    assert plan.sweep_newsbrief[0][:2] == (1, 2) and not plan.sweep_workers
    full, _ = parse_args([])
    assert len(full.sweep_newsbrief) == 6 and len(full.sweep_libretranslate) == 4


def _peer_and_summarizer_results() -> dict[str, object]:
    def run(rps: float, p50: float) -> dict[str, object]:
        return {
            "concurrency": 1,
            "requested": 4,
            "completed": 4,
            "throughput_rps": rps,
            "p50_ms": p50,
        }

    return {
        "plan": {"new_tokens": 16},
        "row6": {
            "libretranslate": {"c1": run(1.0, 400), "c16": run(2.0, 7000), "peak_rss_kb": 1000},
            "newsbrief": {"c1": run(1.2, 300), "c16": run(7.0, 2000), "peak_rss_kb": 1100},
            "sweep": {
                "requests_c16": 48,
                "requests_c1": 3,
                "tie": 0.05,
                "memory_cap_kb": 1000,
                "libretranslate": [
                    _point({"inter": 2, "intra": 1, "threads": 16}, "2x1 t16", 2.0, 400, 1000)
                ],
                "newsbrief": [
                    _point(NB_2X1_B8, "2x1 b8 w2", 7.0, 300, 900),
                    _point(NB_2X1_B8 | {"max_batch_size": 16}, "2x1 b16 w2", 8.0, 300, 1200),
                ],
                "best": {
                    "libretranslate": {"inter": 2, "intra": 1, "threads": 16},
                    "newsbrief": NB_2X1_B8,
                },
            },
            "dedup": [{"case": "first", "texts_before": 14, "texts_sent": 8, "texts_cached": 0}],
        },
        "row7": {
            "distilbart-cnn": {
                "naive": {"c1": run(0.5, 2000), "c16": run(0.5, 30000)},
                "ct2": {"c1": run(1.0, 1000), "c16": run(3.0, 5000)},
            },
            "mt5-xlsum": {"error": "model not built"},
        },
    }


def test_libretranslate_and_summariser_ratios_are_judged() -> None:
    results = _peer_and_summarizer_results()
    verdicts = {t["target"]: t["met"] for t in targets(results)}
    assert verdicts["Translate throughput at 16 clients >= 3x LibreTranslate's"] is True  # 3.5x
    assert verdicts["Translate p50 at 1 client <= LibreTranslate's"] is True
    assert verdicts["peak RSS at 16 clients <= LibreTranslate's"] is False  # 1.1x
    assert verdicts["abstractive briefs at 16 clients >= 5x naive, CT2 int8 (distilbart-cnn)"]
    assert not any("mt5-xlsum" in t for t in verdicts)  # not measured: no target row


def test_results_json_names_libretranslate_in_the_ratio_keys(tmp_path: Path) -> None:
    write(_peer_and_summarizer_results(), tmp_path)
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    ratios = data["row6"]["ratios"]
    assert ratios["throughput_x_libretranslate_c16"] == 3.5
    assert ratios["p50_x_libretranslate_c1"] == 0.75
    assert ratios["peak_rss_x_libretranslate"] == 1.1
    assert data["row7"]["distilbart-cnn"]["ratios"]["throughput_x_naive_c16"] == 6.0
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "## 6. newsbrief beside LibreTranslate" in text and "## 7. Abstractive" in text
    assert "| first | 14 | 8 | 0 |" in text
    assert "### 6.1 Thread layouts swept" in text and "| newsbrief | 2x1 b8 w2 |" in text
    assert "over the memory cap" in text and "**chosen**" in text


def test_the_peer_bound_is_the_engines_own_batching_gain() -> None:
    """Row 6 states what bounds the ratio over LibreTranslate from costs taken in one process:
    the engine's batch-1 cost over its cost at the batch a replica holds at 16 clients."""
    layout = {"inter": 2, "intra": 1, "threads": 4}
    row = {
        "layouts": {"newsbrief": {"inter": 2}, "libretranslate": layout},
        "engine_alone": {
            "beam": 4,
            "b1": {"batch": 1, "tokens_per_s": 20.0, "cpu_s_per_text": 0.72},
            "b8": {"batch": 8, "tokens_per_s": 58.0, "cpu_s_per_text": 0.24},
            "b16": {"batch": 16, "tokens_per_s": 66.0, "cpu_s_per_text": 0.18},
        },
        "libretranslate": {
            "c1": {"server_cpu_s_per_request": 0.75},
            "c16": {"server_cpu_s_per_request": 0.80},
        },
        "newsbrief": {"c16": {"server_cpu_s_per_request": 0.30}},
        "sweep": {
            "libretranslate": [
                {"layout": {"inter": 1, "intra": 2, "threads": 4}, "c16": {}},
                {"layout": layout, "c16": {"server_cpu_s_per_request": 0.64}},
            ]
        },
    }
    lines = [line for line in peer_bounds(row) if "engine's own costs" in line]
    assert len(lines) == 1
    assert "1.04x the engine's 0.720 at batch 1" in lines[0]
    assert "batch-8 cost) is 3.00x" in lines[0]  # 0.72 / 0.24, not batch 16's 4.00x
    assert "0.640 in the sweep and 0.800 here" in lines[0]
