"""``make bench``'s quick run end to end: the real extractive server as its own process, the load
generator and the report (no model, no LibreTranslate install, no timing asserts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_quick_smoke_run_without_models(tmp_path: Path) -> None:
    """``--quick --rows 4``: the real extractive server, load generator and report, no model
    and no LibreTranslate install."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--rows", "4", "--out", str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["row4"]["extractive"]["completed"] == 50
    assert data["row4"]["cache"]["hits"] == 50
    assert "row6" not in data and "row1" not in data
    assert "## 4. Extractive briefs" in (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
