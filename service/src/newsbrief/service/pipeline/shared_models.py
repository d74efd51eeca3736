"""The language models loaded once for all the pipeline's worker processes: the fork server
loads them (:func:`load`, called by :mod:`.fork_server`, which only the fork server imports)
before it forks any worker, so that the workers share them copy-on-write rather than each
loading its own (about 130 MiB a worker).

lingua's own preloading starts a thread pool, and a process forked after that deadlocks when it
uses the pool; :func:`.language.load_models` loads the models on the calling thread instead,
with no thread started. The server names the language settings in :data:`ENV` before the fork
server starts (:func:`.processes._context`); a worker whose settings differ (a fork server
started earlier for another pipeline in the same process) loads its own models.
"""

from __future__ import annotations

import json
import logging
import os

from newsbrief.service.intake.language import load_models
from newsbrief.service.settings import LanguageSettings

log = logging.getLogger(__name__)

#: The environment variable that carries the language settings (JSON) to the fork server.
ENV = "_NEWSBRIEF_SHARED_LANGUAGE_MODELS"

#: The supported languages whose models this process loaded for its workers (None: none).
loaded: tuple[str, ...] | None = None


def shared(settings: LanguageSettings) -> bool:
    """True in a worker forked from a process that loaded the models of ``settings``."""
    return loaded is not None and loaded == tuple(settings.supported)


def load() -> LanguageSettings | None:
    """In the fork server, before it forks a worker (after :mod:`.fork_server` has imported what
    the workers' stages run): load the language models named in :data:`ENV`, so that every
    worker shares them rather than loading its own; their settings (None: none loaded)."""
    global loaded
    raw = os.environ.get(ENV)
    if not raw:
        return None
    try:
        settings = LanguageSettings.model_validate(json.loads(raw))
        load_models(settings)
    except Exception:  # the workers then load their own: slower to start, never wrong
        log.exception("loading the language models in the fork server failed")
        return None
    loaded = tuple(settings.supported)
    return settings
