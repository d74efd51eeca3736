"""The real newsbrief server (``App`` + ``Pipeline``) with a benchmark translator plugged in.

``python -m bench.serve --translator naive|noop [--model DIR --new-tokens N]`` reads the usual
``NEWSBRIEF_*`` settings, builds the pipeline with that translator, serves until SIGTERM/SIGINT,
then drains and stops like ``newsbrief-server``. The newsbrief engines themselves are run with
``newsbrief-server`` unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from bench.translators import NaiveTranslator, noop_batched
from newsbrief.service.app import App
from newsbrief.service.models.batching import BatchedTranslator
from newsbrief.service.observability.logs import configure_logging
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import load_settings

log = logging.getLogger("bench.serve")


async def _serve(translator_kind: str, model: Path | None, new_tokens: int, threads: int) -> None:
    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.json_lines)
    translator: NaiveTranslator | BatchedTranslator
    if translator_kind == "naive":
        assert model is not None, "--model is needed for the naive translator"
        translator = NaiveTranslator(model, new_tokens=new_tokens, threads=threads)
        translator.warm_up()
    else:  # the no-op engine served like the real engines: through the micro-batcher
        translator = noop_batched(settings.models.translator.batching)
    app = App(settings, pipeline=Pipeline(settings, translator=translator))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start(wait_ready=True)
    try:
        await stop.wait()
    finally:
        await app.stop()
        translator.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--translator", choices=("naive", "noop"), required=True)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(_serve(args.translator, args.model, args.new_tokens, args.threads))


if __name__ == "__main__":
    main()
