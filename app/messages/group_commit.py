"""Group commit: concurrent writers share one transaction and one commit.

A single worker task per app and kind of job drains the queue, applies every queued job in
one transaction and answers each caller only after that commit. Jobs are judged one by one
inside `apply` (a refused job gets its own outcome and does not fail the others); if the
transaction fails as a whole, its jobs are retried one by one, and a job whose retry also
fails with a database error (a concurrent writer in another process won a race on a unique
key) is applied once more, when it sees that writer's row.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

logger = logging.getLogger("cordon.messages")

Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Job, Result]):
    job: Job
    future: "asyncio.Future[Result]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit(Generic[Job, Result]):
    """The worker of one kind of job (started lazily on the first one)."""

    name = "cordon-group-commit"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, batch_max: int) -> None:
        self._sessionmaker = sessionmaker
        self._batch_max = batch_max
        self._queue: asyncio.Queue[_Pending[Job, Result]] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def apply(self, session: AsyncSession, jobs: list[Job]) -> list[Result]:
        """Apply `jobs` inside `session`'s transaction (the worker commits); one result each."""
        raise NotImplementedError

    def _ensure_worker(self) -> "asyncio.Queue[_Pending[Job, Result]]":
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(self._queue), name=self.name)
        return self._queue

    async def run_one(self, job: Job) -> Result:
        """Queue a job; returns its result once its transaction committed."""
        pending: _Pending[Job, Result] = _Pending(job)
        self._ensure_worker().put_nowait(pending)
        return await pending.future

    async def run_many(self, jobs: list[Job]) -> list[Result]:
        """Queue several jobs together, so they share a group commit; one result each."""
        queue = self._ensure_worker()
        pending: list[_Pending[Job, Result]] = [_Pending(job) for job in jobs]
        for one in pending:
            queue.put_nowait(one)
        return list(await asyncio.gather(*(one.future for one in pending)))

    async def stop(self) -> None:
        """Stop the worker (pending jobs are failed by cancellation)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(BaseException):
                await self._worker

    async def _run(self, queue: "asyncio.Queue[_Pending[Job, Result]]") -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                results = await self._commit([p.job for p in batch])
            except BaseException as exc:
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for pending, result in zip(batch, results, strict=True):
                if not pending.future.done():
                    pending.future.set_result(result)

    async def _commit(self, jobs: list[Job]) -> list[Result]:
        try:
            return await self._commit_once(jobs)
        except DBAPIError:
            if len(jobs) == 1:
                raise
            logger.warning("%s: batch of %d failed; retrying one by one", self.name, len(jobs))
        results: list[Result] = []
        for job in jobs:
            try:
                results += await self._commit_once([job])
            except DBAPIError:  # a concurrent writer won the race: apply again, seeing its row
                results += await self._commit_once([job])
        return results

    async def _commit_once(self, jobs: list[Job]) -> list[Result]:
        async with self._sessionmaker() as session:
            try:
                results = await self.apply(session, jobs)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            return results
