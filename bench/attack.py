"""Issue 17's attacks on the HTTP door at full size, with the figures its "done when" asks for:
``python -m bench.attack`` (from the repository root, the service and client on PYTHONPATH).

1. three clients sending unauthenticated 4 KB-gzip / 4.4 MB-JSON Translate bodies for 10 s:
   gRPC health p50 and max meanwhile;
2. 1,100 slow-body connections to a server run at an open-file limit of 1,024: gRPC health max,
   how many the server closed and how soon, the log's growth.

The test suite runs scaled-down versions (``tests/reliability/test_doors.py``,
``test_http_bounds.py``)."""

from __future__ import annotations

import argparse
import hashlib

from tests.reliability.doors import DoorServer, HealthProbe, open_file_limit, slow_body_attack
from tests.reliability.test_doors import _bombard


def bombs(seconds: float) -> None:
    digest = hashlib.sha256(b"bench-key").hexdigest()
    with DoorServer(NEWSBRIEF_AUTH__API_KEY_HASHES=digest) as server:
        with HealthProbe(server.target) as probe:
            statuses = _bombard(server.http_port, "not-a-key", seconds=seconds, senders=3)
        print(f"gzip bombs, wrong key, 3 senders x {seconds:g} s: {dict(statuses)}")
        print(f"  gRPC health: {probe.summary()}")
    with DoorServer() as server:
        with HealthProbe(server.target) as probe:
            statuses = _bombard(server.http_port, None, seconds=seconds, senders=3)
        print(f"gzip bombs, keyless server (413), 3 senders x {seconds:g} s: {dict(statuses)}")
        print(f"  gRPC health: {probe.summary()}")


def slow_bodies(count: int, body_timeout_s: float) -> None:
    with open_file_limit(1024):
        server = DoorServer(NEWSBRIEF_HTTP__BODY_TIMEOUT_S=str(body_timeout_s))
    try:
        before = server.log.stat().st_size
        figures = slow_body_attack(server, count, wait_s=body_timeout_s + 60)
        grown = server.log.stat().st_size - before
        print(f"ulimit -n 1024, body timeout {body_timeout_s:g} s: {figures.summary()}")
        print(f"  the log grew {grown / 1e6:.2f} MB; health after: {server.health()}")
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="bomb senders' run")
    parser.add_argument("--connections", type=int, default=1100, help="slow-body connections")
    parser.add_argument("--body-timeout", type=float, default=30.0, help="http.body_timeout_s")
    args = parser.parse_args()
    bombs(args.seconds)
    slow_bodies(args.connections, args.body_timeout)


if __name__ == "__main__":
    main()
