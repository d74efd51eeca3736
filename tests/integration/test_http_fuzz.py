"""Schema-driven fuzzing of the live HTTP/JSON front end with schemathesis, from the served
OpenAPI document: a bounded number of generated requests per operation (valid and invalid ones),
no 5xx, every status documented and every response valid against the document."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import RUN_SUMMARY, RunningServer

MAX_EXAMPLES = 30
# The server validates more than a proto3 schema can say (limits, language codes, non-empty
# text), so "schema-valid request rejected" and "schema-violating request accepted" are not
# checked; everything about the responses is.
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


def test_fuzz_the_live_server_against_its_openapi_document(
    server: RunningServer, tmp_path: Path
) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    run = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{server.http_url}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "20261201",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts, output[-3000:]
    generated, passed = int(counts[1]), int(counts[2])
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested[1]) == 8, output[-3000:]  # every unary RPC of both services
    assert generated == passed and generated >= 8 * 10, output[-3000:]
    RUN_SUMMARY.append(
        f"HTTP fuzz (schemathesis, <= {MAX_EXAMPLES} examples per operation): "
        f"{generated} requests generated, {passed} passed, 0 server errors"
    )
