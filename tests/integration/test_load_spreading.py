"""The README's Node snippet spreads calls over every server a target resolves to: with the
round_robin policy 20 calls from one @grpc/grpc-js client reach both of two real servers (about
half each);
with grpc-js's default (pick_first) they all go to one. Each server counts what it served in its
own /metrics."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import REPO, RunningServer, make_settings
from tests.harness.server import free_port, metric, metrics

SCRIPT = REPO / "tests" / "integration" / "round_robin_client.js"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "node_modules" / "@grpc" / "grpc-js").is_dir(),
    reason="needs Node.js and `npm ci` (make lint installs node_modules)",
)


def _served(port: int) -> float:
    return metric(
        metrics(port),
        "newsbrief_requests_total",
        method="/newsbrief.v1.SummarizerService/Summarize",
    )


def _node(target: str, calls: int, policy: str) -> None:
    out = subprocess.run(
        ["node", str(SCRIPT), target, str(calls), policy],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["calls"] == calls


@pytest.mark.parametrize(("policy", "spread"), [("round_robin", True), ("pick_first", False)])
def test_node_client_spreads_calls_with_round_robin(policy: str, spread: bool) -> None:
    servers = [
        RunningServer(make_settings(metrics_port=free_port(), metrics_host="127.0.0.1"))
        for _ in range(2)
    ]
    try:
        target = "ipv4:" + ",".join(f"127.0.0.1:{s.port}" for s in servers)
        _node(target, 20, policy)
        served = sorted(_served(s.app.metrics_port) for s in servers)
    finally:
        for s in servers:
            s.stop()
    assert sum(served) == 20
    if spread:  # round_robin starts on whichever connection is ready first: about half each
        assert served[0] >= 5, served
    else:
        assert served == [0, 20]
