"""The intake's parts: an article's main text (:mod:`.main_text`: HTML through :mod:`.html`,
scraped plain text through :mod:`.scraped`) and its language (:mod:`.language`). The intake
stage (:mod:`newsbrief.service.pipeline.stages.intake`) runs them in the pipeline's workers.

Imports nothing above it but the shared layers (text, domain, errors, settings)."""
