"""The client's import hygiene, in a fresh interpreter: importing it pulls in only the standard
library, grpc and protobuf."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_client_pulls_in_only_stdlib_grpc_protobuf() -> None:
    code = (
        "import sys, grpc, grpc.aio, google.protobuf\n"
        "before = set(sys.modules)\n"
        "import newsbrief.client, newsbrief.client.cli\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "bad = sorted(m for m in new if m not in sys.stdlib_module_names"
        " and m not in ('newsbrief', 'google', 'grpc'))\n"
        "extra = sorted(m for m in set(sys.modules) - before if m.startswith("
        "('google.rpc', 'grpc_status', 'grpc_health', 'newsbrief.service')))\n"
        "print(bad + extra)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout.strip() == "[]"
