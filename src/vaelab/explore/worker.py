"""One decoding thread behind a bounded queue.

The web server's event loop never runs the model: a request puts its job in
the queue and awaits the job's future, so a slow client (one that sends or
reads slowly) holds no thread, and the model runs one batch at a time. When
the queue is full the request is refused at once (HTTP 503 with Retry-After)
instead of piling up latency for everyone.

Jobs submitted with :meth:`DecodeWorker.submit_batch` under the same batch
function are coalesced: when the worker picks one up, it takes every such job
already waiting and runs them as one batch (one forward pass for the codes of
eight clients dragging sliders at once, instead of eight).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

#: Most jobs coalesced into one batch.
MAX_BATCH = 64


class Busy(Exception):
    """The queue is full; the client should retry shortly."""


class DecodeWorker:
    """Run submitted callables one at a time on a daemon thread.

    Parameters
    ----------
    max_queue : int
        Jobs that may wait; one more is refused with :class:`Busy`.
    """

    def __init__(self, max_queue: int = 16) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be >= 1, got {max_queue}")
        # items: (future, job, None) for single jobs, (future, item, batch_fn) for batchable ones, None to stop
        self._queue: queue.Queue[tuple[Future[Any], Any, Any] | None] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="vaelab-explore-worker", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``fn(*args)``; its future holds the result or the exception. Raises :class:`Busy` when full."""
        return self._put(lambda: fn(*args), None)

    def submit_batch(self, batch_fn: Callable[[Sequence[Any]], Sequence[Any]], item: Any) -> Future[Any]:
        """Queue ``item`` for ``batch_fn(items) -> results`` (one result per item), run with other waiting items."""
        return self._put(item, batch_fn)

    def _put(self, payload: Any, batch_fn: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            self._queue.put_nowait((future, payload, batch_fn))
        except queue.Full:
            raise Busy(f"the decoder is busy ({self._queue.maxsize} requests waiting); retry shortly") from None
        return future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            taken = [first]
            while first is not None and len(taken) < MAX_BATCH:  # everything already waiting
                try:
                    taken.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is None for item in taken)
            jobs = [item for item in taken if item is not None and item[0].set_running_or_notify_cancel()]
            batches: dict[Any, list[tuple[Future[Any], Any, Any]]] = {}
            for future, payload, batch_fn in jobs:
                if batch_fn is None:
                    _settle(future, payload)
                else:
                    batches.setdefault(batch_fn, []).append((future, payload, batch_fn))
            for batch_fn, group in batches.items():
                try:
                    results = batch_fn([payload for _, payload, _ in group])
                except BaseException as exc:  # every request of the batch gets the error
                    for future, _, _ in group:
                        future.set_exception(exc)
                else:
                    for (future, _, _), result in zip(group, results):
                        future.set_result(result)
            for _ in taken:
                self._queue.task_done()
            if stop:
                return

    def wait_idle(self) -> None:
        """Block until every queued job has run."""
        self._queue.join()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread after the queued jobs."""
        self._queue.put(None)
        self._thread.join(timeout)


def _settle(future: Future[Any], job: Callable[[], Any]) -> None:
    try:
        future.set_result(job())
    except BaseException as exc:  # handed to the waiting request
        future.set_exception(exc)
