"""Unit tests of the jobs pieces that need no server: the callback allow-list, signatures and
their verification, backoff bounds, the schema's revision and what opening a store imports."""

from __future__ import annotations

import ipaddress
import logging
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text as sa_text

from newsbrief.client.webhooks import WebhookVerificationError, verify
from newsbrief.service.jobs.schema import metadata
from newsbrief.service.jobs.store import (
    HEAD_REVISION,
    MIGRATIONS,
    JobStore,
    StoreUnavailable,
    _engine,
    _migrate_in_child,
)
from newsbrief.service.jobs.webhooks import CallbackPolicy, CallbackRefused, backoff_s, sign
from newsbrief.service.settings import WebhookSettings
from tests.jobs.conftest import _database


def test_nothing_is_allowed_by_default() -> None:
    with pytest.raises(CallbackRefused, match="not enabled"):
        CallbackPolicy([]).check_url("https://cms.example.com/hook")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://cms.example.com/x", "http"),
        ("https://user:pw@cms.example.com/x", "user name"),
        ("https://evil.example.org/x", "not in"),
        ("https://example.com.evil.org/x", "not in"),
        ("http://10.1.2.3/x", "not in"),
        ("http://[::1]:8080/x", "not in"),
    ],
)
def test_callback_urls_outside_the_list_are_refused(url: str, reason: str) -> None:
    policy = CallbackPolicy(["cms.example.com", "*.newsroom.example", "127.0.0.1"])
    with pytest.raises(CallbackRefused, match=reason):
        policy.check_url(url)


def test_listed_names_wildcards_and_addresses_pass() -> None:
    policy = CallbackPolicy(["cms.example.com", "*.newsroom.example", "10.0.0.0/8"])
    assert policy.check_url("https://cms.example.com/hook")[1:] == ("cms.example.com", 443)
    assert policy.check_url("http://a.b.newsroom.example:81/")[1:] == ("a.b.newsroom.example", 81)
    assert policy.check_url("http://10.9.8.7/x")[1] == "10.9.8.7"


def test_a_listed_name_that_resolves_to_a_private_address_is_refused() -> None:
    policy = CallbackPolicy(["cms.example.com", "10.0.0.0/8"])
    public = ipaddress.ip_address("93.184.216.34")
    assert policy.check_addresses("cms.example.com", [public]) == public
    for private in ("127.0.0.1", "169.254.169.254", "192.168.1.5", "::1", "fd00::1"):
        with pytest.raises(CallbackRefused, match="non-public"):
            policy.check_addresses("cms.example.com", [public, ipaddress.ip_address(private)])
    inside = ipaddress.ip_address("10.2.3.4")  # private, but in a listed network
    assert policy.check_addresses("cms.example.com", [inside]) == inside


def test_the_client_verifies_what_the_server_signs() -> None:
    body = b'{"job":{"id":"job_1"}}'
    headers = {
        "Newsbrief-Timestamp": "1700000000",
        "Newsbrief-Signature": sign(b"s3cret", 1700000000, body),
        "Newsbrief-Delivery": "dlv_1",
    }
    assert verify(body, headers, "s3cret", now=1700000010) == "dlv_1"
    assert verify(body, headers, ["old", "s3cret"], now=1700000010) == "dlv_1"
    for bad_body, secret, now in (
        (body + b" ", "s3cret", 1700000010),  # body changed
        (body, "other", 1700000010),  # another secret
        (body, "s3cret", 1700001000),  # too old: a replay
    ):
        with pytest.raises(WebhookVerificationError):
            verify(bad_body, headers, secret, now=now)


def test_backoff_doubles_within_its_jitter_and_its_cap() -> None:
    s = WebhookSettings(initial_backoff_s=1.0, max_backoff_s=10.0, jitter=0.2)
    rng = random.Random(1)
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)):
        waits = [backoff_s(s, attempt, rng) for _ in range(50)]
        assert min(waits) >= base * 0.8 and max(waits) <= base * 1.2
        assert max(waits) - min(waits) > 0  # jittered


def test_the_head_revision_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


# opens the jobs system of a database (a new one gets the head schema without Alembic; one at the
# head revision needs nothing) and says which of Alembic and httpx (imported for the first webhook
# sent, not before) it imported
_OPEN = """
import asyncio, sys
from newsbrief.service.jobs.system import JobSystem
from newsbrief.service.settings import JobsSettings
system = JobSystem("sqlite:///" + sys.argv[1], JobsSettings(), brief=None, error_status=None)
asyncio.run(system.open())
print("alembic" in sys.modules, "httpx" in sys.modules)
"""


def test_the_server_process_imports_neither_alembic_nor_httpx(tmp_path: Path) -> None:
    def imported() -> list[str]:
        return subprocess.run(
            [sys.executable, "-c", _OPEN, str(tmp_path / "jobs.sqlite3")],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout.split()

    assert imported() == ["False", "False"]  # a new database: the head schema, stamped
    with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (HEAD_REVISION,)
        ]
    assert imported() == ["False", "False"]  # at the head revision: not migrated


def test_the_migration_logs_here_what_alembic_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the child process that migrates any database but a new one or one at the head revision
    caplog.set_level(logging.INFO)
    _migrate_in_child(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    assert ("alembic.runtime.migration", logging.INFO) in {
        (r.name, r.levelno) for r in caplog.records if r.getMessage().startswith("Running upgrade")
    }


def _schema(url: str) -> dict[str, object]:
    """Every table of the database with its columns, keys, unique constraints and indexes."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            look = sa_inspect(conn)
            return {
                table: (
                    [(c["name"], str(c["type"]), c["nullable"]) for c in look.get_columns(table)],
                    look.get_pk_constraint(table)["constrained_columns"],
                    sorted(
                        (fk["constrained_columns"], fk["referred_table"])
                        for fk in look.get_foreign_keys(table)
                    ),
                    sorted(
                        (u["name"], u["column_names"]) for u in look.get_unique_constraints(table)
                    ),
                    sorted(
                        (i["name"], i["column_names"], bool(i["unique"]))
                        for i in look.get_indexes(table)
                    ),
                )
                for table in sorted(look.get_table_names())
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_new_database_gets_the_schema_the_migrations_make(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """A new database is given :mod:`.schema`'s tables stamped with the head revision, not run
    through the migrations: both must give the same database (a schema change without its
    migration, or the other way round, fails here)."""
    built, migrated = _database(request, kind), _database(request, kind)
    store = JobStore(built)
    store.open()
    store.close()
    _migrate_in_child(migrated)
    assert _schema(built) == _schema(migrated)
    assert set(_schema(built)) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    for url in (built, migrated):
        engine = _engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa_text("SELECT version_num FROM alembic_version")).all() == [
                (HEAD_REVISION,)
            ]
        engine.dispose()


def test_a_database_migrated_by_a_newer_server_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(f"sqlite:///{path}")
    store.open()
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreUnavailable, match="a newer server may have migrated it"):
        JobStore(f"sqlite:///{path}").open()
