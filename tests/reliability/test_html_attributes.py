"""A page whose one tag carries tens of thousands of attributes (the HTML parser compares each
attribute with those before it: quadratic) is answered at the cost of an ordinary page, and
does not hold the worker processes while other briefs wait."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from newsbrief.client import Client
from newsbrief.v1 import newsbrief_pb2 as pb
from tests.harness.load import ARTICLE
from tests.harness.server import ServerProcess, process_tree

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the server's CPU time from /proc"
)

_P = "<p>Mr. Smith said the vote on the new budget was close, and the count went on late.</p>"
#: 319 KB: 30,000 attributes on one tag. It cost 17 s of CPU per brief on one core (and more
#: on a busy machine); 0.03 s with the parser's work bounded.
PAGE = (
    "<html><body><div "
    + " ".join(f'a{i}="v"' for i in range(30_000))
    + ">"
    + _P * 5
    + "</div></body></html>"
)


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time of ``pids`` and of their children that have ended (a worker killed and reaped
    counts in its parent's)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(NEWSBRIEF_CACHE__ENABLED="false", NEWSBRIEF_WORKERS="2") as running:
        yield running


def _summarize(target: str, request: pb.SummarizeRequest, timeout: float) -> pb.SummarizeResponse:
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            "/newsbrief.v1.SummarizerService/Summarize",
            request_serializer=pb.SummarizeRequest.SerializeToString,
            response_deserializer=pb.SummarizeResponse.FromString,
        )
        return call(request, timeout=timeout)


def test_a_tag_with_30000_attributes_costs_the_server_little_cpu(server: ServerProcess) -> None:
    pids = process_tree(server.proc.pid)  # the server, its fork server and workers
    before = _cpu_seconds(pids)
    answer = _summarize(server.target, pb.SummarizeRequest(html=PAGE), timeout=120)
    spent = _cpu_seconds(pids) - before
    print(f"\n30,000 attributes: {spent:.2f} s of CPU in the server's process tree")
    assert "Smith" in answer.brief.summary
    assert spent < 10, spent  # 0.03 s with the fix, 17 s and more without


def test_two_such_pages_with_short_deadlines_leave_the_next_brief_answered(
    server: ServerProcess,
) -> None:
    def attack() -> None:
        try:
            _summarize(server.target, pb.SummarizeRequest(html=PAGE), timeout=3)
        except grpc.RpcError:
            pass  # DEADLINE_EXCEEDED or an answer: either will do

    attackers = [threading.Thread(target=attack) for _ in range(2)]
    for t in attackers:
        t.start()
    time.sleep(0.5)  # both pages reach the workers
    t0 = time.monotonic()
    with Client(server.target, retries=0) as c:
        assert c.summarize(ARTICLE, timeout=10).brief.summary  # within 5 s on a quiet machine
    print(f"\nthe ordinary brief after two attribute pages: {time.monotonic() - t0:.2f} s")
    for t in attackers:
        t.join(30)
