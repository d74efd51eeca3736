"""The HTTP port's bounds against the real server as a process: a connection cap (and on the
metrics port), refusals logged once per interval, a trickled body answered 408 and closed,
trickled headers cut by the keep-alive timeout, and slow-body connections at an open-file limit
of 1,024 closed by the server while gRPC health keeps answering (``bench/attack.py`` runs the
full 1,100-connection version and prints its figures)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RUN_SUMMARY
from tests.reliability.doors import (
    DoorServer,
    HealthProbe,
    closed_by_peer,
    head,
    open_file_limit,
    read_response,
    slow_body_attack,
)

CAP = 20
BODY_TIMEOUT_S = 2.0
KEEP_ALIVE_S = 3.0


@pytest.fixture(scope="module")
def capped() -> Iterator[DoorServer]:
    with DoorServer(
        metrics=True,
        NEWSBRIEF_HTTP__MAX_CONNECTIONS=str(CAP),
        NEWSBRIEF_HTTP__BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
        NEWSBRIEF_HTTP__KEEP_ALIVE_TIMEOUT_S=str(KEEP_ALIVE_S),
        NEWSBRIEF_WORKERS="1",
    ) as running:
        yield running


def _open(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]


def _closed_now(socks: list[socket.socket], within: float) -> int:
    """How many of ``socks`` the server has closed (looking for ``within`` seconds)."""
    closed = 0
    until = time.monotonic() + within
    for sock in socks:
        if closed_by_peer(sock, max(0.01, until - time.monotonic())) is not None:
            closed += 1
    return closed


def test_connections_past_the_cap_are_closed_at_once_and_logged_once(capped: DoorServer) -> None:
    bursts = (
        (capped.http_port, "HTTP"),
        (capped.http_port, "HTTP"),
        (capped.metrics_port, "metrics"),
    )
    with HealthProbe(capped.target) as probe:
        for port, name in bursts:
            socks = _open(port, 2 * CAP)
            try:
                time.sleep(0.3)
                # looking for 2 s: before the 3 s keep-alive timeout, with room for a busy machine
                closed = _closed_now(socks, within=2.0)
                assert closed == CAP, (name, closed)
            finally:
                for sock in socks:
                    sock.close()
            time.sleep(3.0)  # the server sees the closes and gives the places back
        # the places are free again: normal requests are answered
        assert httpx.get(f"{capped.base}/healthz", timeout=10).status_code == 200
        metrics = f"http://127.0.0.1:{capped.metrics_port}/metrics"
        assert httpx.get(metrics, timeout=10).status_code == 200
    lines = [line for line in capped.text().splitlines() if "refusing new ones" in line]
    # logged at most once a minute per port, however many were refused
    assert [line.split(" WARNING ")[1].split(":")[0] for line in lines] == [
        "newsbrief.service.http.server [-] HTTP",
        "newsbrief.service.http.server [-] metrics",
    ], lines
    assert not probe.failures and probe.max < probe.timeout_s, probe.summary()
    RUN_SUMMARY.append(f"connection cap {CAP}, 3 x {2 * CAP} idle connections: {probe.summary()}")


def _trickle(sock: socket.socket, data: bytes, gap: float, stop: threading.Event) -> None:
    for i in range(len(data)):
        if stop.wait(gap):
            return
        try:
            sock.send(data[i : i + 1])
        except OSError:
            return


def test_a_trickled_body_is_408_and_closed(capped: DoorServer) -> None:
    stop = threading.Event()
    with socket.create_connection(("127.0.0.1", capped.http_port), timeout=5) as sock:
        sock.sendall(
            head(
                "Summarize",
                capped.http_port,
                {"Content-Type": "application/json", "Content-Length": "1000"},
            )
        )
        started = time.monotonic()
        trickler = threading.Thread(target=_trickle, args=(sock, b"x" * 1000, 0.2, stop))
        trickler.start()
        try:
            status, _, body = read_response(sock, timeout=BODY_TIMEOUT_S + 5)
            answered = time.monotonic() - started
            closed = closed_by_peer(sock, 3.0)
        finally:
            stop.set()
            trickler.join(5)
    assert status == 408, body
    assert b"body_timeout_s" in body
    assert BODY_TIMEOUT_S - 0.5 < answered < BODY_TIMEOUT_S + 3, answered
    assert closed is not None, "the server kept the connection open after its 408"


def test_trickled_headers_are_cut_by_the_keep_alive_timeout(capped: DoorServer) -> None:
    stop = threading.Event()
    with socket.create_connection(("127.0.0.1", capped.http_port), timeout=5) as sock:
        sock.sendall(f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1:{capped.http_port}\r\n".encode())
        started = time.monotonic()
        trickler = threading.Thread(
            target=_trickle, args=(sock, b"X-Slow: " + b"a" * 10_000, 0.2, stop)
        )
        trickler.start()
        try:
            closed = closed_by_peer(sock, KEEP_ALIVE_S + 10)
        finally:
            stop.set()
            trickler.join(5)
    assert closed is not None, "trickled headers held the connection"
    assert closed < KEEP_ALIVE_S + 3, time.monotonic() - started


@pytest.mark.system  # 300 connections against a server process: tens of seconds
def test_slow_body_connections_at_an_open_file_limit_of_1024() -> None:
    """Scaled down from the issue's 1,100 (``bench/attack.py``): 300 connections, more than the
    default cap at 1,024 files (224), each trickling a body; the server closes them all (the
    cap's refusals at once, the others with a 408 at the body timeout), the gRPC port keeps
    answering, and the log stays small."""
    with open_file_limit(1024):
        server = DoorServer(NEWSBRIEF_HTTP__BODY_TIMEOUT_S="3", NEWSBRIEF_WORKERS="1")
    try:
        log_before = server.log.stat().st_size
        # "at once": well before the 3 s body timeout that closes the accepted ones (a second
        # was too short when this runs beside other tests on 2 cores)
        figures = slow_body_attack(server, 300, wait_s=30.0, at_once_s=2.0)
        RUN_SUMMARY.append(f"ulimit -n 1024: {figures.summary()}")
        log_growth = server.log.stat().st_size - log_before
        RUN_SUMMARY.append(f"ulimit -n 1024: the log grew {log_growth / 1e6:.2f} MB")
        assert figures.closed == figures.opened, figures.summary()
        assert figures.refused_at_once >= 300 - 224, figures.summary()
        # each one accepted was answered 408 at the body timeout: a call takes its admission
        # slot only once its body is in, so slow bodies never fill the Summarize limit (429)
        assert set(figures.statuses) <= {0, 408}, figures.summary()
        assert figures.statuses[408] >= 1, figures.summary()
        assert figures.last_closed_s < 20, figures.summary()
        assert not figures.health.failures, figures.summary()
        assert figures.health.max < figures.health.timeout_s, figures.summary()
        assert log_growth < 2_000_000, log_growth
        assert server.health() == "SERVING"
        assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
    finally:
        server.close()
