"""Extractive-only servers side by side: memory at SERVING and server CPU per brief.

``python -m bench.extractive_server [--tree NAME=PATH ...] [--env NAME:KEY=VALUE ...]``

Each ``--tree`` is a source tree (a checkout of this repository; default: this one) whose
``newsbrief-server`` is started with no translator and the result cache off. For each server:
resident memory of its process tree at SERVING (RSS and PSS: PSS shares pages that processes
hold together, such as copy-on-write pages of a fork server, among them), then ``--rounds``
passes over the shared news articles (``summarisation/`` and ``non_english/`` of the shared
data, each article once per pass, a unique title each time) from ``--clients`` clients, and the
CPU seconds of the server's process tree per brief. The servers run one at a time, alternating
by round, so a comparison is measured close together; the load average is recorded with each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from bench.profile_extractive import articles, data_dir, print_report
from bench.server import ServerProcess, bench_server
from newsbrief.client import AsyncClient
from tests.conftest import REPO
from tests.harness.load import run_load
from tests.harness.server import proc_memory_kb, proc_pss_kb, process_cpu_s, process_tree


def _own_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` alone (its threads, not its children)."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
        rest = fh.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def server(name: str, tree: Path, env: dict[str, str], logs: Path) -> ServerProcess:
    path = os.pathsep.join(str(tree / p) for p in ("client/src", "service/src", "."))
    return bench_server(
        name,
        [sys.executable, "-m", "newsbrief.service"],
        {
            "PYTHONPATH": path,
            "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
            "NEWSBRIEF_CACHE__ENABLED": "false",
            "NEWSBRIEF_STATE_DIR": str(logs / f"state-{name}"),
            **env,
        },
        logs / f"{name}.log",
    )


async def one_round(
    proc: ServerProcess, texts: list[str], clients: int, round_no: int
) -> dict[str, Any]:
    assert proc.proc is not None
    async with AsyncClient(proc.target, retries=0, timeout=60) as client:
        await client.summarize("Warm-up sentence one is here. Warm-up sentence two follows it.")
        cpu0 = process_cpu_s(proc.proc.pid)
        main0 = _own_cpu_s(proc.proc.pid)

        async def call(i: int) -> None:
            await client.summarize(texts[i], title=f"Round {round_no} article {i}")

        load = await run_load(
            call, requests=len(texts), concurrency=clients, max_seconds=600, call_timeout_s=60
        )
        cpu = process_cpu_s(proc.proc.pid) - cpu0
        main = _own_cpu_s(proc.proc.pid) - main0
    return {
        "done": load.completed,
        "errors": load.errors[:3],
        "cpu_ms_per_brief": round(cpu * 1000 / max(load.completed, 1), 2),
        "main_process_cpu_ms_per_brief": round(main * 1000 / max(load.completed, 1), 2),
        "briefs_per_s": round(load.throughput, 2),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    trees: dict[str, Path] = dict(args.trees)
    envs: dict[str, dict[str, str]] = {name: {} for name in trees}
    for spec in args.env or []:
        name, _, kv = spec.partition(":")
        key, _, value = kv.partition("=")
        envs.setdefault(name, {})[key] = value
    for name in list(envs):
        if name not in trees:  # the same tree with other settings
            base, _, _ = name.partition("+")
            trees[name] = trees[base]
    texts = [text for _, _, text in articles(data_dir())]
    logs = Path(args.logs)
    out: dict[str, Any] = {"clients": args.clients, "articles": len(texts), "servers": {}}
    procs = {name: server(name, tree, envs[name], logs) for name, tree in trees.items()}
    for round_no in range(args.rounds):
        for name, proc in procs.items():
            entry = out["servers"].setdefault(name, {"tree": str(trees[name]), "rounds": []})
            serving_s = await proc.start_async()
            try:
                assert proc.proc is not None
                await asyncio.sleep(1.0)  # let start-up threads settle
                mem = proc_memory_kb(proc.proc.pid)
                entry.setdefault("serving", []).append(
                    {
                        "serving_s": round(serving_s, 2),
                        "rss_mib": round(mem.get("VmRSS", 0) / 1024, 1),
                        "pss_mib": round(proc_pss_kb(proc.proc.pid) / 1024, 1),
                        "processes": len(process_tree(proc.proc.pid)),  # server + children
                    }
                )
                entry["rounds"].append(await one_round(proc, texts, args.clients, round_no))
                mem = proc_memory_kb(proc.proc.pid)
                entry.setdefault("after_load", []).append(
                    {
                        "rss_mib": round(mem.get("VmRSS", 0) / 1024, 1),
                        "pss_mib": round(proc_pss_kb(proc.proc.pid) / 1024, 1),
                        "peak_rss_sum_mib": round(mem.get("VmHWM", 0) / 1024, 1),
                    }
                )
            finally:
                proc.stop()
    for entry in out["servers"].values():
        entry["best_cpu_ms_per_brief"] = min(r["cpu_ms_per_brief"] for r in entry["rounds"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", help="NAME=PATH of a source tree")
    parser.add_argument(
        "--env", action="append", help="NAME:KEY=VALUE, a setting of server NAME (NAME+x: a copy)"
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--logs", default="/tmp/newsbrief-extractive-bench")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.trees = [
        (name, Path(path).resolve())
        for name, _, path in (spec.partition("=") for spec in args.tree or [f"this={REPO}"])
    ]
    print_report(asyncio.run(main_async(args)), args.json)


if __name__ == "__main__":
    main()
