"""Build the developer's Gradio Blocks and mount them, hardened, at /gradio.

With gradio_loader.py (the thread that runs it), the only shell modules that
import gradio, and only inside functions: importing them is cheap. The environment variables below are
read by Gradio at import time, so they are set here, just before the import:
analytics and telemetry off (no outbound connection), temp files under our
cache dir instead of the system temp folder.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop_app.context import username_of
from desktop_app.errors import UserError
from desktop_app.logs import FILE_ONLY
from desktop_app.paths import ensure_private_dir
from desktop_app.settings import Settings
from desktop_app.web.gradio_payloads import file_paths
from desktop_app.web.gradio_traffic import inner_path

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


def prepare_gradio_environment(settings: Settings) -> None:
    temp = ensure_private_dir(settings.dirs.gradio_temp, what="cache directory", flag="--cache-dir")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["GRADIO_TEMP_DIR"] = str(temp)
    os.environ["GRADIO_RUN_HISTORY"] = "False"
    os.environ["GRADIO_SSR_MODE"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


def load_ui_factory(spec: str) -> Callable[[], Any]:
    """'package.module:function' -> the function; clear errors for each way it fails."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UserError(f"--ui must look like 'package.module:function', not {spec!r}.", exit_code=2)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UserError(
            f"--ui {spec!r}: cannot import module {exc.name!r}. Is it installed in this environment?"
        ) from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise UserError(f"--ui {spec!r}: module {module_name!r} has no function {attr!r}.")
    return factory


def build_blocks(settings: Settings) -> Any:
    prepare_gradio_environment(settings)
    import gradio as gr

    factory = load_ui_factory(settings.ui)
    try:
        blocks = factory()
    except Exception as exc:
        # The developer's code failed: keep the traceback for the log, show one line.
        log.exception("the UI factory %s failed", settings.ui, extra=FILE_ONLY)
        raise UserError(
            f"--ui {settings.ui!r} failed: {type(exc).__name__}: {exc}. "
            f"The traceback is in the log at {settings.dirs.log_file}."
        ) from None
    if not isinstance(blocks, gr.Blocks):
        raise UserError(
            f"--ui {settings.ui!r} returned {type(blocks).__name__}, not a gradio.Blocks "
            "(gr.Blocks, gr.Interface or gr.ChatInterface)."
        )
    return blocks


def build_mounted(settings: Settings, path: str) -> tuple[FastAPI, Any]:
    """Build and mount on a host app of our own; returns (host, gradio_app).

    Runs inside a short-lived event loop on purpose: with no running loop,
    gradio.utils.safe_get_lock() creates a new event loop per call and never
    closes it (4 loops and 8 sockets leaked per build). Inside a running loop it
    creates none; asyncio.Lock binds to a loop only on first use, so the locks
    work later in the server's loop."""
    import asyncio

    from fastapi import FastAPI  # here, not at the top: 0.16 s the login page must not wait for

    host = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    async def _in_loop() -> Any:
        _mount(host, settings, path)
        for route in host.routes:
            if getattr(route, "path", None) == path:
                gradio_app = route.app  # type: ignore[attr-defined]
                gradio_app.add_middleware(KeepHashedAssets)
                await _warm_up(gradio_app)
                return gradio_app
        raise RuntimeError(f"gr.mount_gradio_app did not mount at {path!r}")

    return host, asyncio.run(_in_loop())


def files_in_config(app: Any) -> list[str]:
    try:
        return sorted(set(file_paths(app.get_blocks().config)))
    except Exception:  # a Gradio without this shape: no shared files, so none are served to all
        log.warning("could not list the UI's own files; only files given to an account are served",
                    exc_info=True, extra=FILE_ONLY)
        return []


async def _warm_up(app: Any) -> None:
    """FastAPI prepares a router's routes (dependencies, body models) at the
    first request that reaches them: ~45 ms for Gradio's API, which the first
    Gradio event of the first page paid, in the person's sign-in. Paid here
    instead, in the loader thread, by a request for an API path that does not
    exist (a 404: nothing runs, nothing is stored)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/gradio_api/-warm-up", "raw_path": b"/gradio_api/-warm-up",
        "root_path": "", "query_string": b"", "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0),
    }
    sent: list[int] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    try:
        await app(scope, receive, send)
    except Exception:  # only a speed-up: a Gradio that minds it must not cost the UI
        log.warning("preparing Gradio's routes failed; the first event will do it", exc_info=True,
                    extra=FILE_ONLY)
        return
    log.debug("Gradio's routes prepared (warm-up answered %s)", sent)


class KeepHashedAssets:
    """Lets the browser keep Gradio's built front end without asking again.

    Every file under `assets/` carries a hash of its content in its name (a new
    Gradio release brings new names), and `theme.css?v=<hash>` likewise, so a
    copy can never go stale. Gradio sends no caching headers, so WebKit asked
    for each of its ~60 files again, or fetched it, at every sign-in; with this
    header it uses its disk cache (see also runtime._last_port)."""

    HEADER = (b"cache-control", b"private, max-age=31536000, immutable")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self._hashed(scope):
            await self.app(scope, receive, send)
            return

        async def send_cacheable(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message["headers"] = [*headers, self.HEADER]
            await send(message)

        await self.app(scope, receive, send_cacheable)

    @staticmethod
    def _hashed(scope: Any) -> bool:
        path = inner_path(scope)
        if path.startswith("/assets/"):
            return True
        return path == "/theme.css" and scope.get("query_string", b"").startswith(b"v=")


def _mount(app: FastAPI, settings: Settings, path: str) -> None:
    import gradio as gr

    blocks = build_blocks(settings)
    gr.mount_gradio_app(
        app,
        blocks,
        path=path,
        server_name=settings.host,
        server_port=settings.port,
        # Our SessionGate has already refused anyone not signed in; this only
        # tells Gradio who it is, so callbacks see gr.Request.username.
        auth_dependency=username_of,
        ssr_mode=False,
        enable_monitoring=False,
        footer_links=[],  # no "Use via API", no settings or run-history links
        run_history=False,
        mcp_server=False,
        pwa=False,
        allowed_paths=[],
        blocked_paths=[str(p) for p in settings.dirs.private_paths()],
        max_file_size=settings.max_upload_bytes,
        # Only gr.Error messages reach the page; any other exception's text (a
        # repr, a path, a library's message) stays in the log. The shield
        # (gradio_shield.py) also scrubs what still carries internals.
        show_error=False,
        # The sub-app's own FastAPI docs would describe every route to anyone signed in; nobody needs them.
        app_kwargs={"docs_url": None, "redoc_url": None, "openapi_url": None},
    )
