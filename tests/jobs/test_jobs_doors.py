"""JobService on the HTTP/JSON door (Connect) and through the CLI, with API keys: the same
jobs as over gRPC, visible only to the key that made them, cancellable, listed by state."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsbrief.client import Client, NotFoundError
from newsbrief.client.cli import main as cli
from tests.conftest import RunningServer, make_settings
from tests.jobs.conftest import article

KEY_A, KEY_B = "key-a", "key-b"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    hashes = [hashlib.sha256(k.encode()).hexdigest() for k in (KEY_A, KEY_B)]
    srv = RunningServer(
        make_settings(
            http_port=-1,
            auth={"api_key_hashes": hashes},
            jobs={
                "url": f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'jobs.sqlite3'}",
                "poll_s": 0.2,
                "concurrency": 1,
                "article_concurrency": 1,
            },
        )
    )
    yield srv
    srv.call(srv.app.stop(grace=1))


def _post(srv: RunningServer, method: str, body: dict, key: str = KEY_A) -> httpx.Response:
    return httpx.post(
        f"{srv.http_url}/newsbrief.v1.JobService/{method}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_http_creates_and_reads_a_job_that_grpc_sees_too(server: RunningServer) -> None:
    created = _post(server, "CreateJob", {"articles": [article(1), article(2)]})
    assert created.status_code == 200, created.text
    job_id = created.json()["job"]["id"]
    assert created.json()["created"] is True
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = _post(server, "GetJob", {"jobId": job_id}).json()["job"]
        if job["state"] == "JOB_STATE_SUCCEEDED":
            break
        time.sleep(0.1)
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    assert [a["response"]["clientReference"] for a in job["articles"]] == ["a1", "a2"]
    with Client(server.target, api_key=KEY_A) as client:
        assert client.get_job(job_id).state == "succeeded"
    # another key does not see it, on either door
    assert _post(server, "GetJob", {"jobId": job_id}, key=KEY_B).status_code == 404
    with Client(server.target, api_key=KEY_B) as client, pytest.raises(NotFoundError):
        client.get_job(job_id)
    # no key at all: refused before anything else
    assert httpx.post(
        f"{server.http_url}/newsbrief.v1.JobService/GetJob", json={"jobId": job_id}
    ).status_code in (401, 403)


def test_bad_jobs_are_refused_with_the_field_named(server: RunningServer) -> None:
    empty = _post(server, "CreateJob", {"articles": []})
    assert empty.status_code == 400
    bad = _post(server, "CreateJob", {"articles": [article(1), {"text": " "}]})
    assert bad.status_code == 400
    assert "articles[1].text" in bad.text
    hook = _post(server, "CreateJob", {"articles": [article(1)], "callbackUrl": "http://x/"})
    assert hook.status_code == 400  # no webhook secret on this server: FAILED_PRECONDITION


def test_cancel_and_list_by_state(server: RunningServer) -> None:
    with Client(server.target, api_key=KEY_B) as client:
        big = client.create_job([article(i, "c") for i in range(200)])
        cancelled = client.cancel_job(big.id)
        assert cancelled.state == "cancelled"
        assert {a.state for a in cancelled.articles} <= {"cancelled", "succeeded"}
        assert client.cancel_job(big.id).state == "cancelled"  # again: unchanged
        jobs, token = client.list_jobs("cancelled")
        assert [j.id for j in jobs] == [big.id] and token == ""
        assert client.list_jobs("succeeded")[0] == []  # key A's jobs are not listed for B


def test_the_cli_creates_waits_and_prints_json(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = tmp_path / "in.jsonl"
    articles.write_text(
        "\n".join(json.dumps({"id": i, "text": article(i, "cli")["text"]}) for i in range(3)),
        encoding="utf-8",
    )
    common = ["--target", server.target, "--api-key", KEY_A]
    assert cli([*common, "jobs", "create", str(articles), "--json", "--idempotency-key", "k"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["state"] in ("queued", "running") and job["id"].startswith("job_")
    assert cli([*common, "jobs", "wait", job["id"], "--json", "--poll", "0.1"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["state"] == "succeeded"
    assert [a["response"]["clientReference"] for a in done["articles"]] == ["0", "1", "2"]
    assert cli([*common, "jobs", "list", "--state", "succeeded", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert job["id"] in [j["id"] for j in listed]


def test_server_info_says_whether_jobs_are_on(server: RunningServer) -> None:
    """The "jobs" capability (the editor's page reads it to enable its batch control)."""
    with Client(server.target, api_key=KEY_A) as client:
        jobs = {c.name: c for c in client.server_info().capabilities}["jobs"]
    assert jobs.ready and jobs.detail == ""
    with RunningServer(make_settings(http_port=-1, jobs={"enabled": False})) as off:
        info = httpx.post(
            f"{off.http_url}/newsbrief.v1.SummarizerService/GetServerInfo", json={}, timeout=30
        ).json()
        jobs_off = {c["name"]: c for c in info["capabilities"]}["jobs"]
        assert not jobs_off.get("ready", False)
        assert jobs_off["detail"] == (
            "background jobs are off on this server: set jobs.enabled "
            "(NEWSBRIEF_JOBS__ENABLED=true)"
        )
        refused = httpx.post(
            f"{off.http_url}/newsbrief.v1.JobService/CreateJob",
            json={"articles": [article(1)]},
            timeout=30,
        )
        assert refused.json()["code"] == "failed_precondition"
        assert "background jobs are off" in refused.json()["message"]
