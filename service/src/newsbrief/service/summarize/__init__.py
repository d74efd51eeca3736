"""The built-in summarising algorithm: the extractive brief (:mod:`.extractive`), article
sentences chosen to a length budget. No model, no transport: the pipeline's extractive stage
calls it in a worker process."""
