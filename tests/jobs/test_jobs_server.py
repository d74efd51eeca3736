"""Jobs against the real server process, on SQLite and on PostgreSQL: signed webhooks
delivered once, retried until the receiver takes one, idempotency keys, and a SIGKILL with jobs
queued and running that every job survives, finished exactly once."""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Iterator

import pytest

from newsbrief.client import AlreadyExistsError, Client
from newsbrief.client.types import Job
from newsbrief.client.webhooks import verify
from tests.harness.server import ServerProcess
from tests.jobs.conftest import (
    SECRET,
    Receiver,
    article,
    finished_lines,
    kill_tree,
    start_server,
    stop,
    wait_jobs,
)


@pytest.fixture(scope="module")
def server(module_database: str) -> Iterator[ServerProcess]:
    proc = start_server(module_database)
    yield proc
    stop(proc)
    proc.log.unlink(missing_ok=True)


def test_webhook_is_delivered_once_with_a_valid_signature(
    server: ServerProcess, receiver: Receiver
) -> None:
    with Client(server.target) as client:
        job = client.create_job([article(1), article(2)], callback_url=receiver.url)
        done = client.wait_job(job.id, poll_s=0.1, timeout=60)
        got = receiver.wait(1, timeout=30)
        time.sleep(1.0)  # a second delivery would come within the poll interval
        assert done.state == "succeeded"
        assert len(receiver.deliveries) == 1, receiver.deliveries
        delivery = got[0]
        delivery_id = verify(delivery.body, delivery.headers, SECRET)
        body = json.loads(delivery.body)
        assert body["job"]["id"] == job.id
        assert body["job"]["state"] == "JOB_STATE_SUCCEEDED"
        assert [a["response"]["clientReference"] for a in body["job"]["articles"]] == ["a1", "a2"]
        assert delivery.headers["Newsbrief-Job"] == job.id
        # the job records the delivery: same id, one attempt answered 200
        after = client.get_job(job.id)
        assert after.webhook is not None
        assert after.webhook.delivery_id == delivery_id
        assert after.webhook.state == "delivered"
        assert after.webhook.attempts == (200,)
        # a body changed in transit does not verify
        with pytest.raises(ValueError):
            verify(delivery.body.replace(b"a1", b"a9"), delivery.headers, SECRET)


def test_a_receiver_that_fails_twice_gets_the_third_delivery(
    server: ServerProcess, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    with Client(server.target) as client:
        job = client.create_job([article(1)], callback_url=receiver.url)
        got = receiver.wait(1, timeout=60)
        assert len(got) == 1
        assert [d.answered for d in receiver.deliveries] == [500, 500, 200]
        ids = {d.headers["Newsbrief-Delivery"] for d in receiver.deliveries}
        assert len(ids) == 1  # the same delivery id on every attempt
        assert [d.headers["Newsbrief-Attempt"] for d in receiver.deliveries] == ["1", "2", "3"]
        for d in receiver.deliveries:
            verify(d.body, d.headers, SECRET)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            webhook = client.get_job(job.id).webhook
            if webhook is not None and webhook.state == "delivered":
                break
            time.sleep(0.1)
        assert webhook is not None
        assert webhook.attempts == (500, 500, 200)
        assert webhook.state == "delivered"


def test_the_same_idempotency_key_twice_gives_one_job(server: ServerProcess) -> None:
    with Client(server.target) as client:
        first = client.create_job([article(1), article(2)], idempotency_key="cms-4711")
        again = client.create_job([article(1), article(2)], idempotency_key="cms-4711")
        assert first.created and not again.created
        assert again.id == first.id
        with pytest.raises(AlreadyExistsError) as info:
            client.create_job([article(3)], idempotency_key="cms-4711")
        assert first.id in info.value.message
        jobs, _ = client.list_jobs()
        assert [j.id for j in jobs if j.idempotency_key == "cms-4711"] == [first.id]
        assert client.wait_job(first.id, poll_s=0.1, timeout=60).state == "succeeded"


def test_a_server_killed_with_jobs_queued_and_running_finishes_every_job_once(
    database: str, receiver: Receiver
) -> None:
    # one job at a time, one article at a time: at the kill some jobs are done, one is
    # running (articles committed and not), the rest queued
    env = {
        "NEWSBRIEF_JOBS__CONCURRENCY": "1",
        "NEWSBRIEF_JOBS__ARTICLE_CONCURRENCY": "1",
    }
    first = start_server(database, **env)
    servers = [first]
    try:
        with Client(first.target) as client:
            ids = [
                client.create_job(
                    [article(i * 100 + k, f"j{i}-") for k in range(12)], callback_url=receiver.url
                ).id
                for i in range(8)
            ]

            def snapshot() -> dict[str, Job]:
                # one ListJobs call, one query: the states of all the jobs at one moment (job
                # by job, a job could be seen running and then the next one too)
                listed, _ = client.list_jobs(page_size=100)
                return {j.id: j for j in listed if j.id in ids}

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                jobs = snapshot()
                states = collections.Counter(j.state for j in jobs.values())
                if states["succeeded"] >= 1 and states["running"] == 1:
                    break
                time.sleep(0.05)
            states = collections.Counter(j.state for j in jobs.values())
            assert states["running"] == 1 and states["queued"] >= 1, states
            (running_id,) = (i for i, j in jobs.items() if j.state == "running")
            running = client.get_job(running_id)  # with its articles
        kill_tree(first)
        second = start_server(database, **env)
        servers.append(second)
        with Client(second.target) as client:
            done = wait_jobs(client, ids, timeout=120)
        assert sorted(j.state for j in done.values()) == ["succeeded"] * len(ids)
        for job in done.values():
            assert [a.state for a in job.articles] == ["succeeded"] * 12
            assert [a.result.client_reference for a in job.articles if a.result] == [
                a.client_reference for a in job.articles
            ]
        # the job running at the kill went on from where it stopped: what was committed before
        # the kill was not run again
        resumed = done[running.id]
        before = {a.index for a in running.articles if a.state == "succeeded"}
        assert all(resumed.articles[i].attempts == 1 for i in before)
        # every job completed once: one completion in the logs, one delivery id each
        assert collections.Counter(finished_lines(*servers)) == collections.Counter(ids)
        receiver.wait(len(ids), timeout=30)
        time.sleep(1.0)
        per_job: dict[str, set[str]] = collections.defaultdict(set)
        for d in receiver.ok():
            per_job[d.job_id].add(d.headers["Newsbrief-Delivery"])
        assert sorted(per_job) == sorted(ids)
        assert all(len(v) == 1 for v in per_job.values()), per_job
    finally:
        for s in servers:
            if s.alive():
                stop(s)
            s.log.unlink(missing_ok=True)
