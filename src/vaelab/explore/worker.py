"""One decoding thread behind a bounded queue.

The web server's event loop never runs the model: a request puts its job in
the queue and awaits the job's future, so a slow client (one that sends or
reads slowly) holds no thread, and the model runs one batch at a time. When
the queue is full the request is refused at once (HTTP 503 with Retry-After)
instead of piling up latency for everyone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


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
        self._queue: queue.Queue[tuple[Future[Any], Callable[[], Any]] | None] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="vaelab-explore-worker", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``fn(*args)``; its future holds the result or the exception. Raises :class:`Busy` when full."""
        future: Future[Any] = Future()
        try:
            self._queue.put_nowait((future, lambda: fn(*args)))
        except queue.Full:
            raise Busy(f"the decoder is busy ({self._queue.maxsize} requests waiting); retry shortly") from None
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.task_done()
                return
            future, job = item
            try:
                if future.set_running_or_notify_cancel():
                    future.set_result(job())
            except BaseException as exc:  # handed to the waiting request
                future.set_exception(exc)
            finally:
                self._queue.task_done()

    def wait_idle(self) -> None:
        """Block until every queued job has run."""
        self._queue.join()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread after the queued jobs."""
        self._queue.put(None)
        self._thread.join(timeout)
