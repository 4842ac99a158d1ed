"""An ASGI app mounted at /gradio before Gradio exists.

The server starts and serves the login page at once; the Gradio app is built in
a background thread (GradioLoader) and plugged in here when ready. Requests that
arrive before then wait (they do not fail), up to a limit; if the build failed,
they get a 503 page that says why in one sentence.

Gradio's own startup (its queue, run by mount_gradio_app's lifespan) must run in
the server's event loop, so it is entered here on the first request after the
build, and left by `aclose()` from the server's lifespan at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from html import escape
from typing import TYPE_CHECKING

from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from desktop_app.web.gradio_loader import GradioLoader


class DeferredApp:
    def __init__(self, loader: GradioLoader, *, wait_seconds: float = 120.0) -> None:
        self.loader = loader
        self.wait_seconds = wait_seconds
        self._lifespan: contextlib.AbstractAsyncContextManager | None = None
        self._lock: asyncio.Lock | None = None
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.loader.done:
            # Someone wants the UI: build it now, whatever else was waited for
            # (a kept session comes here before any login page loads).
            self.loader.start("a request for the UI arrived")
            waited = 0.0
            # Polling keeps this free of cross-thread wakeups; 20 ms is far
            # below what a person notices and costs nothing while idle.
            while not self.loader.done and waited < self.wait_seconds:
                await asyncio.sleep(0.02)
                waited += 0.02
        if not self.loader.done or self.loader.error is not None:
            await self._unavailable(scope, receive, send)
            return
        if not self._started:
            await self._start()
        await self.loader.app(scope, receive, send)

    async def _start(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._started:
                return
            host = self.loader.host
            assert host is not None  # done, without an error: built
            lifespan = host.router.lifespan_context(host)
            await lifespan.__aenter__()
            self._lifespan = lifespan
            self._started = True

    async def aclose(self) -> None:
        if self._lifespan is not None:
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.__aexit__(None, None, None)

    async def _unavailable(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1011})
            return
        reason = str(self.loader.error) if self.loader.error else "The app's interface is still loading."
        body = f"<!doctype html><meta charset=utf-8><title>Unavailable</title><p>{escape(reason)}</p>"
        await HTMLResponse(body, status_code=503, headers={"retry-after": "5"})(scope, receive, send)
