"""The benchmark's servers (the shared harness, :mod:`tests.harness.server`, with the benchmark's
environment) and how much CPU other processes took during a measurement."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.harness.server import ServerProcess, free_port, newsbrief_server_argv, process_cpu_s

__all__ = [
    "BENCH_ENV",
    "ForeignLoad",
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
