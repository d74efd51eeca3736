"""``newsbrief-server``: run the service. Logging is configured before anything heavy is imported,
so ``--help`` is instant."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="newsbrief-server",
        description="newsbrief: multilingual news briefs over gRPC. Settings come from "
        "NEWSBRIEF_* environment variables, an optional config file, and these flags.",
    )
    p.add_argument("--config", help="TOML, YAML or JSON settings file (or NEWSBRIEF_CONFIG_FILE)")
    p.add_argument("--host", help="address to listen on (NEWSBRIEF_HOST, default [::])")
    p.add_argument("--port", type=int, help="port (NEWSBRIEF_PORT, default 50051)")
    p.add_argument("--log-level", help="log level (NEWSBRIEF_LOGGING__LEVEL, default INFO)")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the server (the default)")
    sub.add_parser("config", help="print the effective settings as JSON and exit")
    health = sub.add_parser(
        "health",
        help="probe this server's gRPC health on its configured port, with its TLS settings "
        "(exit 0 when SERVING): the container health check",
    )
    health.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    models = sub.add_parser(
        "models", help="list the model presets or download them (see `models --help`)"
    )
    msub = models.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="presets with licence, languages and whether installed")
    download = msub.add_parser(
        "download",
        help="fetch presets from the Hugging Face Hub at their pinned revision (needs network)",
    )
    download.add_argument(
        "presets",
        nargs="*",
        metavar="PRESET",
        help="preset names (default: the presets the settings configure)",
    )
    download.add_argument("--revision", default="", help="override the pinned revision")
    convert = msub.add_parser(
        "convert",
        help="convert downloaded presets for the CTranslate2 engine (int8 by default; needs the "
        "hf and ct2 extras)",
    )
    convert.add_argument(
        "presets",
        nargs="*",
        metavar="PRESET",
        help="preset names (default: the slots configured with engine=ctranslate2)",
    )
    convert.add_argument(
        "--compute-type", default="", help="quantization (default: the slot's compute_type)"
    )
    convert.add_argument("--force", action="store_true", help="convert again if converted")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port

    from pydantic import ValidationError

    from newsbrief.service.settings import load_settings

    try:
        settings = load_settings(args.config, **overrides)
    except (ValidationError, ValueError, FileNotFoundError) as exc:
        print(f"newsbrief-server: bad settings: {exc}", file=sys.stderr)
        return 2
    if args.log_level:
        settings.logging.level = args.log_level
    if args.command == "config":
        print(json.dumps(settings.model_dump(mode="json"), indent=2))
        return 0
    if args.command == "health":
        from newsbrief.service.healthcheck import check

        return check(settings, timeout=args.timeout, out=sys.stdout)
    if args.command == "models":
        from newsbrief.service.model_cli import download_models, list_models

        if args.models_command == "list":
            return list_models(settings, sys.stdout)
        if args.models_command == "convert":
            from newsbrief.service.models.ct2.convert import convert_models

            return convert_models(
                settings, args.presets, args.compute_type, args.force, sys.stdout, sys.stderr
            )
        return download_models(settings, args.presets, args.revision, sys.stdout, sys.stderr)

    from newsbrief.service.observability.logs import configure_logging

    configure_logging(settings.logging.level, settings.logging.json_lines)
    import asyncio

    from newsbrief.service.app import StartupError, serve

    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        print(f"newsbrief-server: {exc}", file=sys.stderr)
        return 1
    except Exception:
        logging.getLogger("newsbrief.service").exception("the server failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
