"""The shell's own request handlers: sign-in, first-run setup, logout, and the
small routes around them. Each reads what it needs from `request.app.state`
(set up by app.create_app), so they are plain functions, listed in one place.

Store writes and password checks run in worker threads: another process
holding SQLite's write lock must not stall the event loop (up to busy_timeout),
and argon2 takes ~0.1 s of CPU per check.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from urllib.parse import urlsplit

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from desktop_app.context import context_of
from desktop_app.errors import StoreError, UserError
from desktop_app.identity import current
from desktop_app.instance import TOKEN_HEADER
from desktop_app.store.accounts import LoginResult, LoginStatus
from desktop_app.web import GRADIO_PATH, pages
from desktop_app.web.csrf import Csrf
from desktop_app.web.gate import cookie_value, session_cookie, store_call

log = logging.getLogger(__name__)

HOME = GRADIO_PATH + "/"
_PAGE_HEADERS = {"Content-Security-Policy": pages.PAGE_CSP, "Cache-Control": "no-store"}


def safe_next(value: str | None) -> str:
    """Only a local path may be a redirect target (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value


def _secure(request: Request) -> bool:
    return bool(request.app.state.settings.secure_cookies)


def _csrf(request: Request) -> Csrf:
    return Csrf.of(request, secure=_secure(request))


def _html(body: str, status: int = 200, csrf: Csrf | None = None) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status, headers=_PAGE_HEADERS)
    if csrf is not None:
        csrf.set_on(response)
    return response


async def _limited(limiter: anyio.CapacityLimiter, fn, *args):
    async with limiter:
        return await run_in_threadpool(fn, *args)


def _start_session(request: Request, result: LoginResult, target: str, remember: bool) -> Response | None:
    """A signed-in redirect to `target`; None if the account's password changed,
    or the account went, after `result` was checked (start_session re-checks it
    in the transaction that creates the session). Runs in a worker thread."""
    state = request.app.state
    old = context_of(request)
    if old and old.token:
        state.store.sessions.delete(old.token)  # a login always gets a fresh id
    created = state.store.accounts.start_session(result, kept=remember)
    if created is None:
        return None
    token, _ = created
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    # "Keep me signed in": a cookie that outlives the window (the webview's
    # storage is persistent). Otherwise a session cookie, gone when the app
    # closes. Either way the server enforces the timeouts.
    secure = _secure(request)
    response.set_cookie(
        session_cookie(secure), token, max_age=state.settings.session_max_seconds if remember else None, path="/",
        httponly=True, samesite="strict",
        # `secure` only behind an https public URL (`serve`): WebKit drops Secure
        # cookies on http://localhost, where the desktop's server speaks plain http.
        secure=secure,
    )
    return response


async def healthz(request: Request) -> JSONResponse:
    """The process answers (a proxy's liveness check)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> JSONResponse:
    """Worth sending people to (a proxy's health check): the store answers, the
    UI is built, and the server is not draining (`serve` after SIGTERM). 503
    otherwise; it says nothing more, to anyone."""
    state = request.app.state
    ui = state.ui
    ready = not state.draining and (ui is None or (ui.done and ui.error is None))
    if ready:
        try:
            await run_in_threadpool(state.store.accounts.count)  # one read: the database is there
        except StoreError:
            ready = False
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


async def icon(request: Request) -> FileResponse:
    # The app's own icon (a project's, in an app made with `desktop-app build`).
    return FileResponse(current().icon, media_type="image/png", headers={"Cache-Control": "no-cache"})


async def root(request: Request) -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


async def _account_count(request: Request) -> int:
    store = request.app.state.store
    return int(await store_call(store.sessions, store.accounts.count))


async def login_form(request: Request) -> Response:
    next = request.query_params.get("next")
    if await _account_count(request) == 0:
        if request.app.state.settings.serving:
            return _html(pages.no_accounts_page())
        return RedirectResponse("/setup", status_code=303)
    ctx = context_of(request)
    if ctx and ctx.username:
        return RedirectResponse(safe_next(next), status_code=303)
    csrf = _csrf(request)
    return _html(pages.login_page(csrf=csrf.token, next_url=safe_next(next)), csrf=csrf)


async def login_submit(request: Request) -> Response:
    state = request.app.state
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    csrf = _csrf(request)
    if not Csrf.accepts(request, form.get("csrf"), secure=csrf.secure):
        page = pages.login_page(csrf=csrf.token, next_url=target, username=username,
                                error="This form has expired. Please sign in again.")
        return _html(page, 400, csrf)
    result = await _limited(state.login_limiter, state.store.accounts.authenticate, username, password)
    # Who tried, from where (a team server's proxy's X-Forwarded-For, if it is trusted): for an admin, or fail2ban.
    log.info("sign-in %s: %r from %s", result.status.name.lower(), username[:64], _client_address(request))
    if result.status is LoginStatus.OK:
        started = await run_in_threadpool(_start_session, request, result, target, form.get("remember") == "1")
        if started is not None:
            return started
        # Refused: the password was changed (or the account deleted) while it was
        # being checked. Answered below as a wrong password, which by now it is.
    if result.status is LoginStatus.THROTTLED:
        error, status = (f"Too many failed attempts. Try again in {result.retry_after} seconds.", 429)
    else:
        # One message for unknown names and wrong passwords alike.
        error, status = ("Wrong username or password.", 401)
    page = pages.login_page(csrf=csrf.token, next_url=target, username=username, error=error)
    response = _html(page, status, csrf)
    if status == 429:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


async def no_setup(request: Request) -> Response:
    """/setup on a team server: its first account comes from the command line,
    since a page the first visitor from the network could fill in would make
    them its owner."""
    return _html(pages.no_accounts_page(), 404)


def _client_address(request: Request) -> str:
    """The peer's address, or what a trusted proxy said it was: with
    --forwarded-allow-ips '*' that is whatever the client sent, so only an IP
    address is logged as one (a log watcher must not be fed another's)."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return f"(not an address: {host[:64]!r})"


async def setup_form(request: Request) -> Response:
    if await _account_count(request) > 0:
        return RedirectResponse("/login", status_code=303)
    csrf = _csrf(request)
    return _html(pages.setup_page(csrf=csrf.token), csrf=csrf)


async def setup_submit(request: Request) -> Response:
    state = request.app.state
    accounts = state.store.accounts
    if await _account_count(request) > 0:
        return RedirectResponse("/login", status_code=303)
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    csrf = _csrf(request)
    error = None
    if not Csrf.accepts(request, form.get("csrf"), secure=csrf.secure):
        error = "This form has expired. Please try again."
    elif password != str(form.get("confirm") or ""):
        error = "The two passwords do not match."
    else:
        try:
            created = await _limited(state.login_limiter, lambda: accounts.create_first(username, password))
        except UserError as exc:
            error = exc.message
        else:
            started = await run_in_threadpool(_start_session, request, created, HOME, form.get("remember") == "1")
            # None: the CLI changed or deleted the new account in that instant; sign in anew.
            return started or RedirectResponse("/login", status_code=303)
    return _html(pages.setup_page(csrf=csrf.token, username=username, error=error), 400, csrf)


async def logout(request: Request) -> Response:
    secure = _secure(request)
    token = cookie_value(request.scope, session_cookie(secure))
    if token:
        await run_in_threadpool(request.app.state.store.sessions.delete, token)
    response = RedirectResponse("/login", status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(session_cookie(secure), path="/", httponly=True, samesite="strict", secure=secure)
    return response


async def show_window(request: Request) -> Response:
    """A second launch asks this one to bring its window up (instance.py)."""
    state = request.app.state
    sent = request.headers.get(TOKEN_HEADER, "")
    if state.show_token is None or not hmac.compare_digest(sent.encode(), state.show_token.encode()):
        return Response(status_code=403)
    if state.on_show is None:
        return Response(status_code=409)  # running headless: no window to show
    await run_in_threadpool(state.on_show)
    return Response(status_code=204)


async def store_failed(request: Request, exc: Exception) -> Response:
    # The disk is full or the store unwritable: one sentence, nothing half-done
    # (the transaction was rolled back), and no session was issued.
    assert isinstance(exc, StoreError)
    log.error("%s %s: %s", request.method, request.url.path, exc.message)
    message = exc.public  # the page gets no path of ours
    if "text/html" in request.headers.get("accept", ""):
        return _html(pages.problem_page(message=message), 503)
    return JSONResponse({"detail": message}, status_code=503, headers={"Cache-Control": "no-store"})
