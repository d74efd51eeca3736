"""The benchmark's servers (the shared harness, :mod:`tests.harness.server`, with the benchmark's
environment) and how much CPU other processes took during a measurement."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.harness.server import (
    ServerProcess,
    free_port,
    newsbrief_server_argv,
    proc_memory_kb,
    proc_pss_kb,
    process_cpu_s,
)

__all__ = [
    "BENCH_ENV",
    "ForeignLoad",
    "MemoryPeaks",
    "ServerProcess",
    "bench_server",
    "bench_server_argv",
    "busy_cpu_s",
    "newsbrief_server_argv",
    "process_cpu_s",
]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


#: What every benchmark server runs with: gRPC only (the benchmark measures gRPC), no drain,
#: models from the local cache only.
BENCH_ENV = {
    "NEWSBRIEF_HTTP_PORT": "0",
    "NEWSBRIEF_DRAIN_SECONDS": "0",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def bench_server(name: str, argv: list[str], env: dict[str, str], log_path: Path) -> ServerProcess:
    """One server subprocess on 127.0.0.1:<free port> (the shared harness, not started: ``await
    server.start_async()``); its log goes to ``log_path`` and is kept."""
    return ServerProcess(
        argv=argv,
        name=name,
        port=free_port(),
        log_path=log_path,
        test_env=False,
        start=False,
        env={**BENCH_ENV, **env},
    )


def bench_server_argv(translator: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bench.serve", "--translator", translator, *extra]


def busy_cpu_s() -> float:
    """CPU seconds spent by the whole machine (all processes, all cores) since boot."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


class ForeignLoad:
    """How much CPU *other* processes used during a measurement: the machine's busy CPU time
    minus that of the given processes (the benchmark's own), as a share of all cores' time."""

    def __init__(self, pids: list[int], children: bool = False) -> None:
        self.pids = pids
        self.children = children
        self._t0 = time.monotonic()
        self._busy0 = busy_cpu_s()
        self._ours0 = self._ours()

    def _ours(self) -> float:
        total = process_cpu_s(*self.pids)
        if self.children:
            import resource

            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            total += usage.ru_utime + usage.ru_stime
        return total

    def result(self) -> dict[str, float]:
        wall = time.monotonic() - self._t0
        ours = self._ours() - self._ours0
        foreign = max(busy_cpu_s() - self._busy0 - ours, 0.0)
        cores = os.cpu_count() or 1
        return {
            "bench_cpu_s": round(ours, 2),
            "foreign_cpu_s": round(foreign, 2),
            "foreign_share": round(foreign / (wall * cores), 3) if wall > 0 else 0.0,
        }


class MemoryPeaks:
    """The peak memory of a server's process tree while it works: a thread samples, every
    ``interval_s``, the tree's summed RSS and its PSS (:func:`proc_pss_kb`), and keeps the
    largest of each. Summed RSS counts a page shared by several processes of the tree once per
    process (newsbrief's worker processes share the language models with their fork server);
    PSS counts it once. Sampled peaks can miss a spike shorter than ``interval_s``."""

    def __init__(self, pid: int, interval_s: float = 0.25) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-peaks", daemon=True)

    def sample(self) -> None:
        rss = proc_memory_kb(self.pid).get("VmRSS", 0)
        pss = proc_pss_kb(self.pid)
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> MemoryPeaks:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        """Stop sampling (one last sample first); the peaks."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(5.0)
            self.sample()
        return self.result()

    def result(self) -> dict[str, Any]:
        return {
            "peak_rss_sampled_kb": self.peak_rss_kb,
            "peak_pss_kb": self.peak_pss_kb,
            "memory_samples": self.samples,
        }
