"""Imported by the fork server of the pipeline's worker processes (the last of its preload list,
see :func:`.processes._context`), and acting only there: it imports the stages and loads the
language models that every worker forked from it then shares (:mod:`.shared_models`)."""

from __future__ import annotations

from newsbrief.service.pipeline import shared_models
from newsbrief.service.pipeline.orphans import in_fork_server

if in_fork_server():
    # what the workers' stages run (the pipeline's worker functions, the HTML extractor), then
    # the language models: imported and loaded once here, shared by every worker forked after
    import trafilatura  # noqa: F401

    import newsbrief.service.pipeline.core  # noqa: F401

    shared_models.load()
