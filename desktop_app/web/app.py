"""`create_app(settings, services, ui) -> Starlette`: routes, middleware, the UI mount.

It never serves by itself (server.py does) and imports no Gradio at module
level: the login path must not wait for Gradio's ~3 s import. It is a plain
Starlette app, not FastAPI: the shell's six routes need no validation layer,
and not importing FastAPI/pydantic saves ~0.15 s before the login page. (The
Gradio sub-app is FastAPI; it is built in the loader thread.)

Middleware, outermost first: GuardMiddleware (Host/Origin/Sec-Fetch-Site,
security headers) -> BodyLimit (every body bounded) -> LaunchGate (this launch's token) -> SessionGate (who is signed in; refuses everything not
public) -> routes, and at /gradio a GradioShield (Gradio untrusted: see
gradio_shield.py) in front of a DeferredApp that forwards to the Gradio app
once the loader thread has built it.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from desktop_app.web import pages
from desktop_app.store.accounts import LoginResult, LoginStatus
from desktop_app.context import context_of
from desktop_app.web.deferred import DeferredApp, Loader
from desktop_app.errors import StoreError, UserError
from desktop_app.web.gate import SESSION_COOKIE, SessionGate, cookie_value
from desktop_app.web.gradio_shield import GradioShield
from desktop_app.web.guard import GuardMiddleware
from desktop_app.identity import APP_SLUG
from desktop_app.instance import SHOW_PATH, TOKEN_HEADER, InstanceLock
from desktop_app.web.launch import LaunchGate
from desktop_app.web.limits import BodyLimit
from desktop_app.store import Store
from desktop_app.settings import Settings

log = logging.getLogger(__name__)

CSRF_COOKIE = f"{APP_SLUG}-csrf"
HOME = "/gradio/"
GRADIO_PATH = "/gradio"
STATIC_DIR = Path(__file__).parent / "static"
_PAGE_HEADERS = {"Content-Security-Policy": pages.PAGE_CSP, "Cache-Control": "no-store"}


def safe_next(value: str | None) -> str:
    """Only a local path may be a redirect target (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value


def create_app(
    settings: Settings,
    services: Store,
    ui: Loader | None = None,
    *,
    instance: InstanceLock | None = None,
    on_show: Callable[[], None] | None = None,
    launch_token: str | None = None,
) -> Starlette:
    """`ui` is a started GradioLoader (or None: no UI, for tests of the shell).
    The app serves at once; /gradio waits for the loader.

    `instance` and `on_show` let a second launch ask this one to raise its
    window (POST /_instance/show with the token from the instance file).
    `launch_token`, when given, must be presented once at /_launch before any
    page is served (see launch.py)."""
    deferred = DeferredApp(ui) if ui is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if deferred is not None:
            await deferred.aclose()  # stops Gradio's queue in this loop

    accounts, sessions = services.accounts, services.sessions
    # Argon2 runs in worker threads; this keeps a burst of logins from taking
    # every worker (the hash count itself is capped inside Accounts).
    login_limiter = anyio.CapacityLimiter(4)

    def set_session_cookie(response: Response, token: str, remember: bool) -> None:
        # "Keep me signed in": a cookie that outlives the window (the webview's
        # storage is persistent). Otherwise a session cookie, gone when the app
        # closes. Either way the server enforces the timeouts.
        response.set_cookie(
            SESSION_COOKIE, token, max_age=settings.session_max_seconds if remember else None, path="/",
            httponly=True, samesite="strict",
            # No `secure`: WebKit drops Secure cookies on http://localhost, and
            # this server only ever speaks plain http on loopback.
        )

    def csrf_for(request: Request) -> tuple[str, bool]:
        token = request.cookies.get(CSRF_COOKIE)
        if token and 20 <= len(token) <= 100:
            return token, False
        return secrets.token_urlsafe(32), True

    def html(body: str, status: int = 200, csrf: tuple[str, bool] | None = None) -> HTMLResponse:
        response = HTMLResponse(body, status_code=status, headers=_PAGE_HEADERS)
        if csrf and csrf[1]:
            response.set_cookie(CSRF_COOKIE, csrf[0], path="/", httponly=True, samesite="strict")
        return response

    def csrf_ok(request: Request, submitted: object) -> bool:
        expected = request.cookies.get(CSRF_COOKIE) or ""
        return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(
            expected.encode(), submitted.encode()
        )

    # Store writes run in worker threads, like the password checks: another process
    # holding SQLite's write lock must not stall the event loop (up to busy_timeout).
    def start_session(request: Request, result: LoginResult, target: str, remember: bool) -> Response | None:
        """None if the account's password changed, or the account went, after
        `result` was checked (accounts.start_session re-checks it as it creates)."""
        old = context_of(request)
        if old and old.token:
            sessions.delete(old.token)  # a login always gets a fresh id
        created = accounts.start_session(result, kept=remember)
        if created is None:
            return None
        token, _ = created
        response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
        set_session_cookie(response, token, remember)
        return response

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse(HOME, status_code=303)

    async def login_form(request: Request) -> Response:
        next = request.query_params.get("next")
        if accounts.count() == 0:
            return RedirectResponse("/setup", status_code=303)
        ctx = context_of(request)
        if ctx and ctx.username:
            return RedirectResponse(safe_next(next), status_code=303)
        csrf = csrf_for(request)
        return html(pages.login_page(csrf=csrf[0], next_url=safe_next(next)), csrf=csrf)

    async def login_submit(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        target = safe_next(str(form.get("next") or ""))
        csrf = csrf_for(request)
        if not csrf_ok(request, form.get("csrf")):
            page = pages.login_page(csrf=csrf[0], next_url=target, username=username,
                                    error="This form has expired. Please sign in again.")
            return html(page, 400, csrf)
        result = await run_in_threadpool_limited(login_limiter, accounts.authenticate, username, password)
        if result.status is LoginStatus.OK:
            started = await run_in_threadpool(start_session, request, result, target, form.get("remember") == "1")
            if started is not None:
                return started
            # Refused: the password was changed (or the account deleted) while it was
            # being checked. Answered below as a wrong password, which by now it is.
        if result.status is LoginStatus.THROTTLED:
            error, status = (f"Too many failed attempts. Try again in {result.retry_after} seconds.", 429)
        else:
            # One message for unknown names and wrong passwords alike.
            error, status = ("Wrong username or password.", 401)
        page = pages.login_page(csrf=csrf[0], next_url=target, username=username, error=error)
        response = html(page, status, csrf)
        if status == 429:
            response.headers["Retry-After"] = str(result.retry_after)
        return response

    async def setup_form(request: Request) -> Response:
        if accounts.count() > 0:
            return RedirectResponse("/login", status_code=303)
        csrf = csrf_for(request)
        return html(pages.setup_page(csrf=csrf[0]), csrf=csrf)

    async def setup_submit(request: Request) -> Response:
        if accounts.count() > 0:
            return RedirectResponse("/login", status_code=303)
        form = await request.form()
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        csrf = csrf_for(request)
        error = None
        if not csrf_ok(request, form.get("csrf")):
            error = "This form has expired. Please try again."
        elif password != str(form.get("confirm") or ""):
            error = "The two passwords do not match."
        else:
            try:
                created = await run_in_threadpool_limited(
                    login_limiter, lambda: accounts.create_first(username, password)
                )
            except UserError as exc:
                error = exc.message
            else:
                started = await run_in_threadpool(start_session, request, created, HOME, form.get("remember") == "1")
                # None: the CLI changed or deleted the new account in that instant; sign in anew.
                return started or RedirectResponse("/login", status_code=303)
        return html(pages.setup_page(csrf=csrf[0], username=username, error=error), 400, csrf)

    async def logout(request: Request) -> Response:
        token = cookie_value(request.scope, SESSION_COOKIE)
        if token:
            await run_in_threadpool(sessions.delete, token)
        response = RedirectResponse("/login", status_code=303, headers={"Cache-Control": "no-store"})
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def show_window(request: Request) -> Response:
        sent = request.headers.get(TOKEN_HEADER, "")
        if instance is None or not hmac.compare_digest(sent.encode(), instance.token.encode()):
            return Response(status_code=403)
        if on_show is None:
            return Response(status_code=409)  # running headless: no window to show
        await run_in_threadpool(on_show)
        return Response(status_code=204)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/", root, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/setup", setup_form, methods=["GET"]),
        Route("/setup", setup_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route(SHOW_PATH, show_window, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    if deferred is not None:
        dirs = settings.dirs
        shield = GradioShield(deferred, owners=services.files, shared=ui,
                              private=[str(dirs.data), str(dirs.cache), str(dirs.log)])
        routes.append(Mount(GRADIO_PATH, shield))
    middleware = [Middleware(GuardMiddleware),  # outermost first
                  Middleware(BodyLimit, max_upload=settings.max_upload_bytes, gradio_path=GRADIO_PATH)]
    if launch_token is not None:
        middleware.append(Middleware(LaunchGate, token=launch_token))
    middleware.append(Middleware(SessionGate, store=sessions, accounts=accounts))

    async def store_failed(request: Request, exc: StoreError) -> Response:
        # The disk is full or the store unwritable: one sentence, nothing half-done
        # (the transaction was rolled back), and no session was issued.
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
        message = exc.public  # the page gets no path of ours
        if "text/html" in request.headers.get("accept", ""):
            return html(pages.problem_page(message=message), 503)
        return JSONResponse({"detail": message}, status_code=503, headers={"Cache-Control": "no-store"})

    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={StoreError: store_failed})


async def run_in_threadpool_limited(limiter: anyio.CapacityLimiter, fn, *args):  # type: ignore[no-untyped-def]
    async with limiter:
        return await run_in_threadpool(fn, *args)
