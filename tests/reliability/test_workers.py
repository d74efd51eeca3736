"""The CPU stages' worker processes: a worker that dies fails only the request it was working
on (UNAVAILABLE, retryable), the others are answered, and a new worker takes its place."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbrief.client import Client, UnavailableError
from newsbrief.client.errors import NewsbriefError
from tests.conftest import RunningServer, make_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROSE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
#: 100,000 characters of prose: about a second of CPU in the intake stage, long enough to
#: kill its worker mid-way
LONG = (PROSE * (100_000 // len(PROSE) + 1))[:100_000]

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads worker CPU time from /proc"
)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def running() -> Iterator[RunningServer]:
    """One server for the module: each test reads the pool as it finds it, and leaves it
    recovered."""
    with RunningServer(make_settings(cache={"enabled": False}, workers=2)) as server:
        yield server


def test_a_killed_worker_fails_only_its_request_and_is_replaced(running: RunningServer) -> None:
    workers = running.app.pipeline.workers
    pids = workers.pids()
    assert len(pids) == 2 and os.getpid() not in pids
    idle = {pid: _cpu_seconds(pid) for pid in pids}
    outcomes: list[object] = []

    def brief() -> None:
        with Client(running.target, retries=0) as c:
            try:
                outcomes.append(c.summarize(LONG, timeout=60))
            except NewsbriefError as exc:
                outcomes.append(exc)

    clients = [threading.Thread(target=brief) for _ in range(2)]
    for t in clients:
        t.start()
    # both workers busy with a brief: each has spent CPU time since it was idle
    deadline = time.monotonic() + 30
    while any(_cpu_seconds(pid) - idle[pid] < 0.05 for pid in pids):
        assert time.monotonic() < deadline, "the briefs never reached both workers"
        time.sleep(0.01)
    os.kill(pids[0], signal.SIGKILL)
    for t in clients:
        t.join(60)

    failed = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(failed) == 1, outcomes
    assert isinstance(failed[0], UnavailableError), failed[0]
    assert failed[0].retry_delay is not None and failed[0].retry_delay > 0
    assert "worker" in str(failed[0])
    # the pool recovered: a new worker in place of the dead one, and briefs are answered
    with Client(running.target, retries=0) as c:
        for _ in range(3):
            assert c.summarize(PROSE, timeout=60).brief.summary
    now = workers.pids()
    assert len(now) == 2 and pids[0] not in now and pids[1] in now


def test_a_worker_that_died_idle_costs_no_request(running: RunningServer) -> None:
    workers = running.app.pipeline.workers
    victim = workers.pids()[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)  # let the pool notice; a request sent before that may see it too
    with Client(running.target, retries=0) as c:
        for _ in range(4):  # more than one per worker: the dead one's slot is used
            assert c.summarize(PROSE, timeout=60).brief.summary
    assert victim not in workers.pids()


def _private_mib(pid: int) -> float:
    """Memory of ``pid`` that no other process shares (private clean + dirty pages), MiB."""
    fields = {
        line.split(":")[0]: int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
        if line.split()[1].isdigit()
    }
    return (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.skipif(
    not Path("/proc/self/smaps_rollup").exists(), reason="reads shared memory from /proc"
)
def test_the_workers_share_one_copy_of_the_language_models() -> None:
    """The fork server loads the language models (about 130 MiB) before it forks the workers,
    on its own thread (lingua's preloading would leave a thread pool that deadlocks a process
    forked after it), and the workers share them: each holds only a few MiB of its own, and
    detects languages (a brief of each supported script answers)."""
    from tests.harness.server import ServerProcess
    from tests.harness.server import process_tree as _tree

    with ServerProcess(
        NEWSBRIEF_WORKERS="2", NEWSBRIEF_CACHE__ENABLED="false", NEWSBRIEF_HTTP_PORT="0"
    ) as server:
        with Client(server.target, retries=0) as c:
            for text, lang in (
                (PROSE, "en"),
                ("Kerajaan berkata bahawa projek itu akan bermula pada bulan depan. " * 4, "ms"),
                ("정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다. " * 4, "ko"),
            ):
                assert c.summarize(text, timeout=60).source_language.code == lang
        # the server's children: the fork server (the workers' parent) and a resource tracker
        children = [p for p in _tree(server.proc.pid) if _parent(p) == server.proc.pid]
        fork_servers = [p for p in children if "forkserver" in _command(p)]
        assert len(fork_servers) == 1, [_command(p) for p in children]
        fork_server = fork_servers[0]
        workers = _tree(fork_server)[1:]
        assert len(workers) == 2
        # the fork server's own thread and its watch on the server (.orphans): no thread pool
        assert len(list(Path(f"/proc/{fork_server}/task").iterdir())) <= 2
        for worker in workers:
            # a worker with its own models holds 130 MiB or more of its own
            assert _private_mib(worker) < 60, (worker, _private_mib(worker))


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="reads memory from /proc")
def test_language_models_not_loaded_at_start_until_a_call_needs_them() -> None:
    """``language_models_at_start`` off (a server whose callers name the source language): the
    server starts and briefs with a given language without loading any language model (the
    process tree holds about 100 MiB less PSS); a call without one still gets its language
    detected, its worker loading the models then."""
    from tests.harness.server import ServerProcess, proc_pss_kb

    env = {"NEWSBRIEF_WORKERS": "1", "NEWSBRIEF_CACHE__ENABLED": "false"}
    with ServerProcess(env=env) as eager:
        eager_mib = proc_pss_kb(eager.proc.pid) / 1024
    with (
        ServerProcess(env=env, NEWSBRIEF_LANGUAGE_MODELS_AT_START="false") as lazy,
        Client(lazy.target, retries=0) as c,
    ):
        assert c.summarize(PROSE, source_language="en", timeout=60).brief.summary
        lazy_mib = proc_pss_kb(lazy.proc.pid) / 1024
        assert lazy_mib < eager_mib - 50, (lazy_mib, eager_mib)
        korean = "정부는 오늘 내년 예산안을 국회에 제출했다고 밝혔다. " * 4
        assert c.summarize(korean, timeout=60).source_language.code == "ko"
        assert c.summarize(PROSE, timeout=60).source_language.code == "en"


def test_the_server_process_does_not_import_the_html_extractor() -> None:
    """trafilatura (about 20 MiB) is imported by the workers, which parse pages; the server
    process, which never does, does not hold it."""
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, newsbrief.service.app, newsbrief.service.pipeline.core; "
            "print(sorted(m for m in ('trafilatura', 'justext') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stderr
