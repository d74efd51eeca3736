"""A short run of ``make soak``: the report holds what the long run is judged by."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability import soak


def test_soak_smoke_writes_a_report(tmp_path: Path) -> None:
    assert soak.main(["--seconds", "6", "--clients", "3", "--report-dir", str(tmp_path)]) == 0
    (report_file,) = tmp_path.glob("soak-*.json")
    report = json.loads(report_file.read_text())
    assert report["unexpected_errors"] == {}
    assert report["server_alive"] is True
    assert report["requests_per_s"] > 0
    assert report["codes"].get("invalid INVALID_ARGUMENT", 0) >= 0
    assert {"summarize", "health"} <= set(report["latency_ms"])
    assert all(kib > 0 for _, kib in report["rss_kib"])
    assert (tmp_path / report_file.name.replace(".json", ".md")).exists()
