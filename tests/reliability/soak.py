"""``make soak``: the real server as its own process under a steady mixed load for a bounded
time; writes a report (held requests/s, p50/p99 per call kind, errors by code, RSS samples).

    python -m tests.reliability.soak --minutes 10 [--clients 8] [--report-dir reports]

Clients in a closed loop (the shared load generator, :mod:`tests.harness.load`), one connection
each; the mix of calls: new articles (Summarize), repeated ones (cache hits), a 5-article
SummarizeStream, a health check, and an invalid request (its INVALID_ARGUMENT is expected).
Any other error is unexpected and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from newsbrief.client import AsyncClient, NewsbriefError
from tests.harness.load import ARTICLE, percentile, run_load
from tests.harness.server import ServerProcess

KINDS = ("summarize", "cached", "stream", "health", "invalid")
WEIGHTS = (6, 2, 1, 2, 1)
EXPECTED = {"invalid": {"INVALID_ARGUMENT"}}


class Tally:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.codes: collections.Counter[tuple[str, str]] = collections.Counter()
        self.articles = 0

    def add(self, kind: str, code: str, seconds: float, articles: int) -> None:
        self.latency[kind].append(seconds * 1000)
        self.codes[(kind, code)] += 1
        self.articles += articles


async def _one(client: AsyncClient, kind: str, n: int) -> int:
    """One call of ``kind``; returns the number of articles briefed."""
    if kind == "summarize":
        await client.summarize(f"{ARTICLE}\n\nUpdate {n}.")
        return 1
    if kind == "cached":
        await client.summarize(ARTICLE)
        return 1
    if kind == "stream":
        requests = [{"text": f"{ARTICLE}\n\nItem {n}-{i}."} for i in range(5)]
        items = [item async for item in client.summarize_many(requests)]
        assert all(item.result is not None for item in items), items
        return 5
    if kind == "health":
        assert await client.health() == "SERVING"
        return 0
    await client.summarize("   ")  # whitespace only: INVALID_ARGUMENT
    return 0


async def _load(target: str, seconds: float, clients: int, tally: Tally) -> None:
    """``clients`` clients in a closed loop (the shared load generator) for ``seconds``, each
    call of a kind drawn by ``WEIGHTS``; every outcome goes to ``tally``."""
    rng = random.Random(0)
    connections = [AsyncClient(target, timeout=60) for _ in range(clients)]
    try:

        async def call(n: int) -> None:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            started = time.monotonic()
            try:
                articles = await _one(connections[n % clients], kind, n)
                code = "OK"
            except NewsbriefError as exc:
                articles, code = 0, exc.code.name
            except AssertionError:
                articles, code = 0, "WRONG_ANSWER"
            except Exception as exc:  # a client-side failure is an unexpected outcome too
                articles, code = 0, type(exc).__name__
            tally.add(kind, code, time.monotonic() - started, articles)

        await run_load(
            call,
            requests=sys.maxsize,
            concurrency=clients,
            max_seconds=seconds,
            call_timeout_s=120.0,
        )
    finally:
        for connection in connections:
            await connection.close()


def run(seconds: float, clients: int, report_dir: Path, sample_s: float = 5.0) -> dict[str, Any]:
    """Run the soak; write ``soak-<time>.json`` and ``.md`` under ``report_dir``; return the
    report."""
    tally = Tally()
    rss: list[tuple[float, int]] = []
    with ServerProcess(NEWSBRIEF_LOGGING__ACCESS_LOG="false") as server:
        started = time.monotonic()

        async def soak() -> None:
            load = asyncio.create_task(_load(server.target, seconds, clients, tally))
            while not load.done():
                rss.append((round(time.monotonic() - started, 1), server.rss_kib()))
                until = started + seconds
                await asyncio.wait(
                    [load], timeout=min(sample_s, max(0.05, until - time.monotonic()))
                )
            await load

        asyncio.run(soak())
        elapsed = time.monotonic() - started
        alive = server.alive() and server.health() == "SERVING"
    calls = sum(tally.codes.values())
    unexpected = {
        f"{kind} {code}": count
        for (kind, code), count in sorted(tally.codes.items())
        if code != "OK" and code not in EXPECTED.get(kind, set())
    }
    warm = [kib for t, kib in rss if t >= elapsed * 0.25] or [kib for _, kib in rss]
    half = len(warm) // 2
    report: dict[str, Any] = {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "calls": calls,
        "requests_per_s": round(calls / elapsed, 1),
        "articles_per_s": round(tally.articles / elapsed, 1),
        "latency_ms": {
            kind: {
                "count": len(values),
                "p50": round(percentile(values, 50), 1),
                "p99": round(percentile(values, 99), 1),
            }
            for kind, values in sorted(tally.latency.items())
        },
        "codes": {f"{kind} {code}": n for (kind, code), n in sorted(tally.codes.items())},
        "unexpected_errors": unexpected,
        "server_alive": alive,
        "rss_kib": rss,
        "rss_after_warmup_kib": {
            "first_half_max": max(warm[:half] or warm),
            "second_half_max": max(warm[half:] or warm),
        },
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (report_dir / f"soak-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    (report_dir / f"soak-{stamp}.md").write_text(_markdown(report))
    return report


def _markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Soak: {r['seconds']} s, {r['clients']} clients",
        "",
        f"- held: {r['requests_per_s']} requests/s ({r['articles_per_s']} articles/s), "
        f"{r['calls']} calls",
        f"- unexpected errors: {r['unexpected_errors'] or 'none'}",
        f"- server alive and SERVING at the end: {r['server_alive']}",
        f"- RSS of the server and its workers after warm-up (max of first half / second half): "
        f"{r['rss_after_warmup_kib']['first_half_max']} / "
        f"{r['rss_after_warmup_kib']['second_half_max']} KiB",
        "",
        "| kind | calls | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for kind, s in r["latency_ms"].items():
        lines.append(f"| {kind} | {s['count']} | {s['p50']} | {s['p99']} |")
    lines += ["", "| outcome | count |", "|---|---|"]
    lines += [f"| {k} | {n} |" for k, n in r["codes"].items()]
    lines += ["", "RSS samples (s, KiB): " + ", ".join(f"{t}:{k}" for t, k in r["rss_kib"]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="soak", description=__doc__.split("\n\n")[0])
    length = p.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=10.0, help="duration (10)")
    length.add_argument("--seconds", type=float, help="duration in seconds instead")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    p.add_argument("--report-dir", type=Path, default=Path("reports"))
    args = p.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    report = run(seconds, args.clients, args.report_dir)
    print(_markdown(report))
    ok = not report["unexpected_errors"] and report["server_alive"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
