"""Run the build stage of the Dockerfile on this machine, without a Docker engine.

Each ``COPY`` and ``RUN`` of the ``build`` stage is carried out under a scratch root directory
(``/opt/venv`` becomes ``ROOT/opt/venv``), with the stage's ``ENV`` and ``WORKDIR``. The
runtime stage's ``ENV``, ``USER``, ``HEALTHCHECK`` and ``ENTRYPOINT`` are printed as JSON so a
test can start the installed server the way the image would and probe it with the image's own
health check. RUN lines must name absolute paths through ENV variables only (checked), so the
mirror can relocate them.

Usage: python scripts/dockerfile_mirror.py ROOT [--dockerfile Dockerfile]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Stage:
    name: str
    steps: list[tuple[str, str]] = field(default_factory=list)


def parse(path: Path) -> list[Stage]:
    """Dockerfile instructions per stage (continuation lines joined, comments dropped)."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        word = word.upper()
        if word == "FROM":
            match = re.search(r"\bAS\s+(\S+)", rest, re.IGNORECASE)
            stages.append(Stage(match.group(1) if match else str(len(stages))))
        elif stages:
            stages[-1].steps.append((word, rest.strip()))
    return stages


def parse_env(rest: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in shlex.split(rest):
        key, _, value = item.partition("=")
        out[key] = value
    return out


def relocate(value: str, root: Path) -> str:
    return str(root) + value if value.startswith("/") else value


def run_build(stage: Stage, root: Path) -> None:
    env = dict(os.environ)
    workdir = root
    for word, rest in stage.steps:
        if word == "ENV":
            for key, value in parse_env(rest).items():
                env[key] = relocate(value, root)
        elif word == "WORKDIR":
            workdir = root / rest.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            *sources, dest = shlex.split(rest)
            if any(s.startswith("--") for s in sources):
                raise SystemExit(f"COPY flags are not mirrored in the build stage: {rest}")
            target = workdir / dest
            for source in sources:
                src = REPO / source
                if src.is_dir():
                    shutil.copytree(
                        src,
                        target,
                        dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"),
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target / src.name if dest.endswith("/") else target)
        elif word == "RUN":
            if re.search(r"(?<![\w$\"{])/(opt|src|usr|app)\b", rest):
                raise SystemExit(f"RUN must name absolute paths through ENV variables: {rest}")
            print(f"+ {rest}", file=sys.stderr)
            subprocess.run(
                ["bash", "-euo", "pipefail", "-c", rest], cwd=workdir, env=env, check=True
            )
        else:
            raise SystemExit(f"instruction {word} is not mirrored in the build stage")


def runtime_spec(stage: Stage) -> dict[str, object]:
    spec: dict[str, object] = {"env": {}, "user": "root", "healthcheck": [], "entrypoint": []}
    for word, rest in stage.steps:
        if word == "ENV":
            spec["env"].update(parse_env(rest))  # type: ignore[attr-defined]
        elif word == "USER":
            spec["user"] = rest
        elif word == "HEALTHCHECK":
            spec["healthcheck"] = json.loads(rest[rest.index("CMD") + 3 :])
        elif word == "ENTRYPOINT":
            spec["entrypoint"] = json.loads(rest)
        elif word == "COPY":
            copies = spec.setdefault("copies", [])
            assert isinstance(copies, list)
            copies.append(rest)
    return spec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--dockerfile", type=Path, default=REPO / "Dockerfile")
    args = p.parse_args(argv)
    stages = {s.name: s for s in parse(args.dockerfile)}
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    run_build(stages["build"], root)
    print(json.dumps(runtime_spec(stages["runtime"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
