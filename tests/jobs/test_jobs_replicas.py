"""Several replicas sharing one PostgreSQL job store (slow system tests: ``-m system``).

- two server processes, 200 jobs created on both: every job completes once (0 duplicates,
  0 lost), every article is briefed once (row locks: no job runs on two replicas);
- a job of 500 articles while the two replicas are restarted in turn (SIGTERM, then a new
  process): 500 results, each article committed once, the job succeeded.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import threading
import time

import pytest

from newsbrief.client import Client
from tests.harness.server import ServerProcess
from tests.jobs.conftest import (
    Receiver,
    article,
    article_lines,
    finished_lines,
    start_server,
    stop,
    wait_jobs,
)

pytestmark = pytest.mark.system


def test_two_replicas_complete_200_jobs_with_no_duplicate_and_none_lost(
    pg_database: str, receiver: Receiver
) -> None:
    env = {"NEWSBRIEF_JOBS__CONCURRENCY": "4"}
    servers = [start_server(pg_database, **env), start_server(pg_database, **env)]
    try:
        ids: list[str] = []
        lock = threading.Lock()

        def create(server: ServerProcess, start: int) -> None:
            with Client(server.target) as client:
                for i in range(start, start + 100):
                    job = client.create_job([article(i, "r")], callback_url=receiver.url)
                    with lock:
                        ids.append(job.id)

        makers = [threading.Thread(target=create, args=(s, n * 100)) for n, s in enumerate(servers)]
        for t in makers:
            t.start()
        for t in makers:
            t.join()
        assert len(set(ids)) == 200
        with Client(servers[0].target) as client:
            done = wait_jobs(client, ids, timeout=240)
        lost = [i for i in ids if done.get(i) is None or done[i].state != "succeeded"]
        assert lost == []
        # every article was briefed once: no job ran on both replicas
        assert all(a.attempts == 1 for j in done.values() for a in j.articles)
        # each job completed once (one completion line over both logs) and was delivered once
        completions = collections.Counter(finished_lines(*servers))
        assert sorted(completions) == sorted(ids)
        assert max(completions.values()) == 1
        receiver.wait(200, timeout=60)
        time.sleep(1.0)
        per_job: dict[str, set[str]] = collections.defaultdict(set)
        for d in receiver.ok():
            per_job[d.job_id].add(d.headers["Newsbrief-Delivery"])
        assert len(per_job) == 200
        assert all(len(v) == 1 for v in per_job.values())
        # the figures (shown with -s): webhook latency from the job's completion to its delivery
        finish = {
            i: datetime.datetime.fromisoformat(j.to_dict()["finishTime"].replace("Z", "+00:00"))
            for i, j in done.items()
        }
        latency = sorted(d.at - finish[d.job_id].timestamp() for d in receiver.ok())
        print(
            f"\n200 jobs on 2 replicas: {len(done)} succeeded, lost {len(lost)}, duplicate "
            f"completions {sum(completions.values()) - len(completions)}, deliveries "
            f"{len(receiver.deliveries)} (attempts), webhook latency p50 "
            f"{latency[len(latency) // 2] * 1000:.0f} ms, p95 "
            f"{latency[int(len(latency) * 0.95)] * 1000:.0f} ms, max {latency[-1] * 1000:.0f} ms"
        )
        # both replicas took part
        assert all("job_" in s.text() and ": started on " in s.text() for s in servers)
    finally:
        for s in servers:
            stop(s)
            s.log.unlink(missing_ok=True)


def _job_row(url: str, job_id: str) -> tuple[int, str]:
    """Articles finished and the lease holder of a job, read from the database (no API call:
    the calls would spend the key's quota that paces the job)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT succeeded_count + failed_count, coalesce(lease_owner, '') FROM jobs "
            "WHERE id = %s",
            (job_id,),
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _holder(url: str, job_id: str, servers: list[ServerProcess]) -> ServerProcess | None:
    owner = _job_row(url, job_id)[1]
    return next((s for s in servers if f":{s.proc.pid}:" in owner), None)


def test_a_job_of_500_articles_survives_a_rolling_restart_of_two_replicas(
    pg_database: str,
) -> None:
    # The key's quota paces the job (10 articles a second on a replica: about 50 s), so it is
    # still running while each replica in turn is stopped and replaced; over quota, an article
    # waits for its key's window and runs then: it does not fail.
    key = "rolling-restart-key"
    env = {
        "NEWSBRIEF_AUTH__API_KEY_HASHES": hashlib.sha256(key.encode()).hexdigest(),
        "NEWSBRIEF_AUTH__REQUESTS_PER_MINUTE": "5",
        "NEWSBRIEF_AUTH__QUOTA_WINDOW_S": "0.5",
    }
    servers = [start_server(pg_database, **env), start_server(pg_database, **env)]
    old: list[ServerProcess] = []
    try:
        with Client(servers[0].target, api_key=key) as client:
            job = client.create_job([article(i, "big") for i in range(500)])
        for _ in range(2):
            deadline = time.monotonic() + 60
            holder = None
            while time.monotonic() < deadline:
                done, _owner = _job_row(pg_database, job.id)
                holder = _holder(pg_database, job.id, servers)
                if holder is not None and done >= 20 + 100 * len(old):
                    break
                time.sleep(0.1)
            assert holder is not None, "no replica holds the job"
            assert _job_row(pg_database, job.id)[0] < 500, "the job ended before the restart"
            stop(holder)  # SIGTERM while it runs the job: the other replica takes it over
            # still running once the stop is through, so the job outlived this replica (how
            # long its replacement takes to start on a busy machine is not what is tested)
            assert _job_row(pg_database, job.id)[0] < 500, "the job ended before the stop"
            old.append(holder)
            servers.remove(holder)
            servers.append(start_server(pg_database, **env))
        deadline = time.monotonic() + 300
        while _job_row(pg_database, job.id)[0] < 500 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)  # the quota window, for the call below
        with Client(servers[0].target, api_key=key) as client:
            done_job = client.wait_job(job.id, poll_s=1.0, timeout=60)
        assert done_job.state == "succeeded"
        assert len(done_job.articles) == 500
        assert [x.result.client_reference for x in done_job.articles if x.result] == [
            f"big{i}" for i in range(500)
        ]
        everyone = [*old, *servers]
        commits = collections.Counter(article_lines(*everyone))
        assert len(commits) == 500
        assert max(commits.values()) == 1  # no article committed twice
        assert collections.Counter(finished_lines(*everyone)) == {job.id: 1}
        # both stopped replicas ran the job: each was stopped while it held it
        assert all(f"job {job.id}: started on" in s.text() for s in old)
    finally:
        for s in (*old, *servers):
            if s.alive():
                stop(s)
            s.log.unlink(missing_ok=True)
