"""Serve the API with uvicorn inside the daemon's own event loop (a task, no thread)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import AsyncExitStack

import uvicorn
from fastapi import APIRouter

from monitord import log
from monitord.api.routes import create_app
from monitord.clock import Clock
from monitord.config import Config
from monitord.console.host import Host
from monitord.store import Store

_log = log.get("monitord.api")
STOP_WITHIN = 1.5  # seconds; the daemon has 5 s for everything at SIGTERM


POLLER_ROOM = 256  # site pollers the connection limit leaves room for


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns SIGTERM/SIGINT/SIGHUP; uvicorn must not take them over.
        yield


class ApiServer:
    def __init__(
        self,
        store: Store,
        config: Callable[[], Config],
        clock: Clock,
        routers: Sequence[APIRouter] = (),
        sock: socket.socket | None = None,
        host: Host | None = None,
    ) -> None:
        self._config = config
        self._sock = sock  # already listening (the demo's, bound outside its namespace)
        self.app = create_app(store, config, clock, routers, host)
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port: int | None = None

    async def start(self) -> None:
        settings = self._config().api
        family = socket.AF_INET6 if ":" in settings.listen else socket.AF_INET
        # Bind here, not in uvicorn: its bind failure is sys.exit(), which would escape the
        # task and take the daemon down without a word; an OSError here says what failed.
        sock = self._sock or socket.create_server((settings.listen, settings.port), family=family)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_config=None,  # keep uvicorn off the root logger's configuration
            access_log=False,  # ours (routes.access_log) never shows headers
            lifespan="off",
            timeout_graceful_shutdown=int(STOP_WITHIN),
            server_header=False,
            # Connections beyond this are 503 before any Python work; the guard's own, smaller
            # limit counts requests. (asyncio already sets TCP_NODELAY on every connection.)
            # Each site poller keeps up to two connections (a long poll, its pushes).
            limit_concurrency=4 * settings.max_concurrent_requests + 2 * POLLER_ROOM,
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="api")
        ready = asyncio.create_task(self._server.ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task.done():
            sock.close()
            self._task.result()  # raise what stopped it
            raise RuntimeError("the API server stopped while starting")
        _log.info("api ready", listen=settings.listen, port=self.port)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_WITHIN + 0.5)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def serve_api(
    stack: AsyncExitStack,
    store: Store,
    config: Callable[[], Config],
    clock: Clock,
    routers: Sequence[APIRouter] = (),
    sock: socket.socket | None = None,
    host: Host | None = None,
) -> int | None:
    """Start the API if it or the console is enabled, stopped when `stack` closes; returns
    its port (the console is served by the same server)."""
    if not (config().api.enabled or config().console.enabled):
        return None
    server = ApiServer(store, config, clock, routers, sock, host)
    await server.start()
    stack.push_async_callback(server.stop)
    return server.port
