"""Print the requirements of a distribution's pyproject.toml, one a line: its dependencies and
those of the extras named, without the project's own distributions (``newsbrief-*``).

The Dockerfile installs these before it copies the source, so a code edit rebuilds only the
small layer that installs the project itself.

Usage: python scripts/pyproject_deps.py service/pyproject.toml [EXTRA ...]
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise SystemExit(f"{pyproject}: no extra named {', '.join(unknown)}")
    found = [*project.get("dependencies", []), *(r for e in extras for r in optional[e])]
    own = re.compile(r"^newsbrief[-_]", re.IGNORECASE)
    return list(dict.fromkeys(r for r in found if not own.match(r)))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for line in requirements(Path(argv[0]), argv[1:]):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
