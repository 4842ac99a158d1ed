"""`create_app(settings, store, ui) -> Starlette`: the routes and the middleware,
and nothing else (the handlers are in views.py).

It never serves by itself (server.py does) and imports no Gradio at module
level: the login path must not wait for Gradio's ~3 s import. It is a plain
Starlette app, not FastAPI: the shell's few routes need no validation layer,
and not importing FastAPI/pydantic saves ~0.15 s before the login page. (The
Gradio sub-app is FastAPI; it is built in the loader thread.)

Middleware, outermost first: GuardMiddleware (Host/Origin/Sec-Fetch-Site,
security headers) -> BodyLimit (every body bounded) -> LaunchGate (this
launch's token) -> SessionGate (who is signed in; refuses everything not
public) -> routes, and at /gradio a GradioShield (Gradio untrusted: see
gradio_shield.py) in front of a DeferredApp that forwards to the Gradio app
once the loader thread has built it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from desktop_app.errors import StoreError
from desktop_app.instance import SHOW_PATH
from desktop_app.settings import Settings
from desktop_app.web import GRADIO_PATH, views
from desktop_app.web.deferred import DeferredApp
from desktop_app.web.gate import SessionGate
from desktop_app.web.gradio_shield import GradioShield
from desktop_app.web.guard import GuardMiddleware
from desktop_app.web.launch import LaunchGate
from desktop_app.web.limits import BodyLimit

if TYPE_CHECKING:
    from desktop_app.store import Store
    from desktop_app.web.gradio_loader import GradioLoader

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings,
    store: Store,
    ui: GradioLoader | None = None,
    *,
    show_token: str | None = None,
    on_show: Callable[[], None] | None = None,
    launch_token: str | None = None,
) -> Starlette:
    """`ui` is a started GradioLoader (or None: no UI, for tests of the shell).
    The app serves at once; /gradio waits for the loader.

    `show_token` and `on_show` let a second launch ask this one to raise its
    window (POST /_instance/show with the token from the instance file).
    `launch_token`, when given, must be presented once at /_launch before any
    page is served (see launch.py)."""
    deferred = DeferredApp(ui) if ui is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if deferred is not None:
            await deferred.aclose()  # stops Gradio's queue in this loop

    routes = [
        Route("/healthz", views.healthz, methods=["GET"]),
        Route("/readyz", views.readyz, methods=["GET"]),
        Route("/", views.root, methods=["GET"]),
        Route("/login", views.login_form, methods=["GET"]),
        Route("/login", views.login_submit, methods=["POST"]),
        # A team server has no first-run page: its first account comes from the CLI.
        *([Route("/setup", views.no_setup, methods=["GET", "POST"])] if settings.serving else [
            Route("/setup", views.setup_form, methods=["GET"]),
            Route("/setup", views.setup_submit, methods=["POST"])]),
        Route("/logout", views.logout, methods=["POST"]),
        Route(SHOW_PATH, views.show_window, methods=["POST"]),
        Route("/static/icon.png", views.icon, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    shield = None
    if deferred is not None:
        dirs = settings.dirs
        shield = GradioShield(deferred, owners=store.files, shared=ui,
                              private=[str(dirs.data), str(dirs.cache), str(dirs.log)])
        routes.append(Mount(GRADIO_PATH, shield))
    middleware = [Middleware(GuardMiddleware, public_url=settings.public_url),  # outermost first
                  Middleware(BodyLimit, max_upload=settings.max_upload_bytes, gradio_path=GRADIO_PATH)]
    if launch_token is not None:
        middleware.append(Middleware(LaunchGate, token=launch_token))
    middleware.append(Middleware(SessionGate, store=store.sessions, accounts=store.accounts,
                                 secure_cookies=settings.secure_cookies))

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={StoreError: views.store_failed})
    app.state.settings = settings
    app.state.store = store
    app.state.ui = ui
    app.state.show_token = show_token
    app.state.on_show = on_show
    # `serve` asked to stop (runtime.drain): /readyz says 503 while what is in flight finishes.
    app.state.draining = False
    app.state.in_flight = (lambda: shield.in_flight) if shield is not None else (lambda: 0)
    # Argon2 runs in worker threads; this keeps a burst of logins from taking
    # every worker (the hash count itself is capped inside Accounts).
    app.state.login_limiter = anyio.CapacityLimiter(4)
    return app
