"""The jobs machinery of one replica, put together: the store, the runner and the webhook
deliverer. The App opens it at start (the schema is migrated then), starts the workers once the
pipeline is warm and stops them first when it drains."""

from __future__ import annotations

import asyncio
import logging

from newsbrief.service.jobs.runner import BriefFn, JobRunner, StatusFn, new_owner
from newsbrief.service.jobs.store import JobStore, redacted
from newsbrief.service.jobs.webhooks import CallbackPolicy, Deliverer
from newsbrief.service.settings import JobsSettings

log = logging.getLogger(__name__)


class JobSystem:
    def __init__(
        self, url: str, settings: JobsSettings, *, brief: BriefFn, error_status: StatusFn
    ) -> None:
        self.settings = settings
        self.url = url
        self.owner = new_owner()
        self.store = JobStore(url)
        self.policy = CallbackPolicy(
            settings.webhook.allowed_hosts, max_url_chars=settings.max_callback_url_chars
        )
        self.deliverer = Deliverer(
            self.store,
            settings.webhook,
            self.policy,
            owner=self.owner,
            poll_s=settings.poll_s,
        )
        self.runner = JobRunner(
            self.store,
            settings,
            brief=brief,
            error_status=error_status,
            owner=self.owner,
            on_finished=lambda job_id, state: self.deliverer.wake(),
        )
        self._started = False

    async def open(self) -> None:
        """Connect and migrate (raises StoreUnavailable with the reason)."""
        await asyncio.to_thread(self.store.open)
        log.info("jobs store %s (%s) open", redacted(self.store.url), self.store.dialect)

    def start(self) -> None:
        """Start claiming jobs and sending webhooks."""
        if not self._started:
            self._started = True
            self.runner.start()
            self.deliverer.start()

    async def stop(self, grace: float) -> None:
        """Finish what is in flight within ``grace``, give the held jobs back, close."""
        if self._started:
            await asyncio.gather(self.runner.stop(grace), self.deliverer.stop(min(grace, 5.0)))
        await asyncio.to_thread(self.store.close)
