"""Run the build stages of a Dockerfile target on this machine, without a Docker engine.

The target (a runtime stage; default the last, as ``docker build``) copies its virtual
environment ``--from`` a build stage; each ``COPY``, ``RUN``, ``ENV``, ``ARG`` and ``WORKDIR`` of
that stage and of the stages it is built FROM is carried out in order under a scratch root
directory (``/opt/venv`` becomes ``ROOT/opt/venv``); a ``RUN --mount=type=cache,target=DIR``
finds at DIR the same folder in every build, as BuildKit's cache mounts do (under ``--cache``,
default ``~/.cache/newsbrief-dockerfile-mirror``), so downloads are kept between builds. The
runtime chain's ``ENV``, ``USER``, ``HEALTHCHECK``, ``ENTRYPOINT`` and ``VOLUME`` are printed as
JSON so a test can start the installed server the way the image would and probe it with the
image's own health check. RUN lines must name absolute paths through ENV variables only
(checked), so the mirror can relocate them.

Usage: python scripts/dockerfile_mirror.py ROOT [--target STAGE] [--dockerfile Dockerfile]
       [--cache DIR]
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
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsbrief-dockerfile-mirror"
)


@dataclass
class Stage:
    name: str
    base: str = ""  # the FROM image or stage
    steps: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Dockerfile:
    args: dict[str, str]  # global ARGs (before the first FROM) with their defaults
    stages: dict[str, Stage]

    def chain(self, name: str) -> list[Stage]:
        """``name`` and the stages it is built FROM, the first first."""
        out: list[Stage] = []
        while name in self.stages:
            out.insert(0, self.stages[name])
            name = self.stages[name].base
        return out


def parse(path: Path) -> Dockerfile:
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
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        word = word.upper()
        if word == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.IGNORECASE)
            assert match, line
            current = Stage(match.group(2) or str(len(stages)), match.group(1))
            stages[current.name] = current
        elif current is not None:
            current.steps.append((word, rest.strip()))
        elif word == "ARG":
            key, _, value = rest.strip().partition("=")
            args[key] = value
    return Dockerfile(args, stages)


def parse_env(rest: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in shlex.split(rest):
        key, _, value = item.partition("=")
        out[key] = value
    return out


def relocate(value: str, root: Path) -> str:
    return str(root) + value if value.startswith("/") else value


def mount_caches(rest: str, root: Path, cache: Path) -> str:
    """The command of a RUN line, after its ``--mount=type=cache,target=DIR`` flags: each DIR
    (relocated under ``root``) is made a link to a folder of ``cache`` named after it, the same in
    every build. Any other RUN flag is refused."""
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        options = dict(o.partition("=")[::2] for o in flag.removeprefix("--mount=").split(","))
        if (
            not flag.startswith("--mount=")
            or options.get("type") != "cache"
            or "target" not in options
        ):
            raise SystemExit(f"RUN flag {flag} is not mirrored (only cache mounts are)")
        name = options.get("id") or options["target"].strip("/").replace("/", "_")
        shared = cache / name
        shared.mkdir(parents=True, exist_ok=True)
        mount = Path(relocate(options["target"], root))
        mount.parent.mkdir(parents=True, exist_ok=True)
        if not mount.is_symlink():
            if mount.exists():
                shutil.rmtree(mount)
            mount.symlink_to(shared, target_is_directory=True)
    return rest


def run_build(chain: list[Stage], root: Path, args: dict[str, str], cache: Path = CACHE) -> None:
    """Carry out the stages of ``chain`` in order under ``root`` (they share one file tree, as
    each is built FROM the one before); cache mounts are folders of ``cache``."""
    env = dict(os.environ)
    workdir = root
    for stage in chain:
        for word, rest in stage.steps:
            if word == "ENV":
                for key, value in parse_env(rest).items():
                    env[key] = relocate(value, root)
            elif word == "ARG":
                key, _, value = rest.partition("=")
                env[key] = value or args.get(key, "")
            elif word == "WORKDIR":
                workdir = root / rest.lstrip("/")
                workdir.mkdir(parents=True, exist_ok=True)
            elif word == "COPY":
                copy(rest, workdir)
            elif word == "RUN":
                rest = mount_caches(rest, root, cache)
                if re.search(r"(?<![\w$\"{])/(opt|src|usr|app)\b", rest):
                    raise SystemExit(f"RUN must name absolute paths through ENV variables: {rest}")
                print(f"+ {rest}", file=sys.stderr)
                subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", rest], cwd=workdir, env=env, check=True
                )
            else:
                raise SystemExit(f"instruction {word} is not mirrored in a build stage")


def copy(rest: str, workdir: Path) -> None:
    *sources, dest = shlex.split(rest)
    if any(s.startswith("--") for s in sources):
        raise SystemExit(f"COPY flags are not mirrored in a build stage: {rest}")
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


def runtime_spec(chain: list[Stage]) -> dict[str, object]:
    """ENV, USER, HEALTHCHECK, ENTRYPOINT, VOLUME and COPY of a runtime stage and its bases."""
    spec: dict[str, object] = {
        "env": {},
        "user": "root",
        "healthcheck": [],
        "entrypoint": [],
        "volumes": [],
        "copies": [],
    }
    for stage in chain:
        for word, rest in stage.steps:
            if word == "ENV":
                spec["env"].update(parse_env(rest))  # type: ignore[attr-defined]
            elif word == "USER":
                spec["user"] = rest
            elif word == "HEALTHCHECK":
                spec["healthcheck"] = json.loads(rest[rest.index("CMD") + 3 :])
            elif word == "ENTRYPOINT":
                spec["entrypoint"] = json.loads(rest)
            elif word == "VOLUME":
                spec["volumes"] = json.loads(rest)
            elif word == "COPY":
                spec["copies"].append(rest)  # type: ignore[attr-defined]
    return spec


def build_stage_of(chain: list[Stage]) -> str:
    """The stage a runtime chain copies its virtual environment from."""
    for stage in chain:
        for word, rest in stage.steps:
            match = re.match(r"--from=(\S+)\s", rest) if word == "COPY" else None
            if match:
                return match.group(1)
    raise SystemExit(f"stage {chain[-1].name} copies from no build stage")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--dockerfile", type=Path, default=REPO / "Dockerfile")
    p.add_argument("--target", default="", help="runtime stage (default: the last, as docker)")
    p.add_argument("--cache", type=Path, default=CACHE, help="where cache mounts are kept")
    args = p.parse_args(argv)
    dockerfile = parse(args.dockerfile)
    target = args.target or list(dockerfile.stages)[-1]
    if target not in dockerfile.stages:
        raise SystemExit(f"no stage {target!r} in {args.dockerfile}")
    runtime = dockerfile.chain(target)
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    run_build(dockerfile.chain(build_stage_of(runtime)), root, dockerfile.args, args.cache)
    print(json.dumps(runtime_spec(runtime)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
