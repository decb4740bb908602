"""Serving the explorer: uvicorn on a socket bound before the URL is printed.

Loopback (127.0.0.1) needs no token. Any other host is reachable from other
machines: the server then warns, and requires a random token that is part of
the printed URL.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on such sockets, and without it every response waits
    # for the client's delayed ACK (~40 ms) between its header and body writes (Nagle's algorithm)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


class Server:
    """A uvicorn server for ``app`` on an already bound socket; :meth:`run` blocks, :meth:`start` runs in a thread."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        import uvicorn

        self.sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=10,
            limit_concurrency=256,
            h11_max_incomplete_event_size=64 * 1024,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        self._server.run(sockets=[self.sock])

    def start(self) -> "Server":
        """Serve in a background thread; returns once the server accepts requests."""
        self._thread = threading.Thread(target=self.run, name="vaelab-explore-server", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the explorer server stopped while starting")
            threading.Event().wait(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.sock.close()


def prepare(
    make_app: Callable[[str | None], Any], host: str, port: int, *, warn: Callable[[str], None]
) -> tuple[Server, str]:
    """Bind, build the app (with a token off loopback) and return the server with its URL."""
    token = None
    if not is_loopback(host):
        token = secrets.token_urlsafe(16)
        warn(
            f"listening on {host}, not on loopback: anyone who can reach this machine on port {port or '(free)'} "
            "can use the explorer with the token in the URL; keep it private"
        )
    sock = bind(host, port)
    server = Server(make_app(token), sock)
    return server, url_for(host if host not in ("0.0.0.0", "::") else socket.gethostname(), server.port, token)


@contextmanager
def running(app: Any, host: str = LOOPBACK) -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a background thread; yields the URL."""
    server = Server(app, bind(host, 0)).start()
    try:
        yield url_for(host, server.port, None)
    finally:
        server.stop()
