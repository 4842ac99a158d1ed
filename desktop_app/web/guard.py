"""Refuse requests that did not come from our own pages on our own address.

Pure ASGI, outermost in the stack. Three rules, for http and websocket alike:

- Host must be 127.0.0.1:PORT, localhost:PORT or [::1]:PORT, where PORT is the
  port this server listens on. Anything else is DNS rebinding (a web page whose
  name resolves to 127.0.0.1) or a confused client. A team server (`serve`)
  takes only its public URL's host instead (its health checks, which a proxy
  sends by address, take any).
- A present Origin must be exactly http://<that host> (a team server's: its
  public URL's scheme and host). Cookies are shared by all
  ports of 127.0.0.1, so another local port is a different origin to refuse.
  Gradio's own CORS code never rejects, so this check is ours. An unsafe request
  must show where it comes from: Origin, or else a Referer on our origin
  (browsers send one of them; a script must say so too).
- What the browser marks cross-site or same-site (`Sec-Fetch-Site`) is refused,
  even without an Origin header, unless it is a top-level navigation by GET (a
  link followed): an image, a script or a fetch from another local port reads.

Every response also gets headers that stop framing and MIME sniffing, and a
Content-Security-Policy when it sets none of its own (Gradio's responses). Gradio's
HTML pages carry a few inline scripts of their own: those are allowed by their
SHA-256 hash, computed from the page as it is sent, so no other inline script or
event handler runs, not even `<img onerror>` in a developer's gr.HTML output.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop_app.web import GRADIO_PATH
from desktop_app.web.gate import HEALTH_PATHS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
# For responses that set no policy of their own (Gradio's): everything from our
# own origin only, so the page cannot fetch from or send to the internet, nor be
# framed. Gradio's front end needs inline styles, and eval for the `js=` code of
# its events; its own inline scripts are allowed by hash (SCRIPT_HASHES_HERE).
_CSP_TEMPLATE = (
    b"default-src 'self'; script-src 'self' SCRIPT_HASHES_HERE'unsafe-eval'; "
    b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    b"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
DEFAULT_CSP = _CSP_TEMPLATE.replace(b"SCRIPT_HASHES_HERE", b"")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def csp_for_page(body: bytes) -> bytes:
    """DEFAULT_CSP plus the hash of each inline script in this page."""
    hashes = b"".join(
        b"'sha256-" + base64.b64encode(hashlib.sha256(script).digest()) + b"' "
        for script in _INLINE_SCRIPT.findall(body)
    )
    return _CSP_TEMPLATE.replace(b"SCRIPT_HASHES_HERE", hashes)


def _is_app_page(path: str) -> bool:
    """Gradio's own HTML pages (the app and its routes), whose inline scripts we
    allow by hash. Files served through its file routes are content, never trusted."""
    return path.startswith(GRADIO_PATH) and "file=" not in path and "/gradio_api/" not in path


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


class GuardMiddleware:
    def __init__(self, app: ASGIApp, *, public_url: str | None = None) -> None:
        """`public_url`: a team server's address (settings.public_url, already
        normalized: scheme://host[:port]); None for the desktop's loopback."""
        self.app = app
        self.public_origin = public_url
        public = urlsplit(public_url) if public_url else None
        self.public_host = public.netloc if public else None
        self.public_scheme = public.scheme if public else None

    def _host_refused(self, scope: Scope, host: str) -> bool:
        if self.public_host is not None:
            return host != self.public_host and scope["path"] not in HEALTH_PATHS
        port = (scope.get("server") or (None, None))[1]
        return port is None or host not in allowed_hosts(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan passes through
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        reason = None
        if self._host_refused(scope, host):
            reason = "unexpected Host header"
        else:
            origin = headers.get("origin")
            unsafe = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
            if origin is None and unsafe and "referer" in headers:
                parts = urlsplit(headers["referer"])
                origin = f"{parts.scheme}://{parts.netloc}"
            if origin is not None and origin != (self.public_origin or f"http://{host}"):
                reason = "cross-origin request"
            elif unsafe and origin is None:
                reason = "request without Origin or Referer"
            elif headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site") and (
                unsafe or not _is_top_level_navigation(headers)
            ):
                # `same-site` is another port of this computer (cookies ignore ports,
                # so SameSite=Strict ones are sent): it may link to us, not read or embed us.
                reason = "cross-site request"
        if reason is not None:
            await _refuse(scope, receive, send, reason)
            return
        if self.public_scheme is not None:
            # The request as the browser made it, before the proxy's TLS ended: the
            # URLs Gradio writes into its config and answers (its root, its files)
            # are built from it. Never from X-Forwarded-Proto: the public URL says.
            secure = self.public_scheme == "https"
            scope = {**scope, "scheme": ("wss" if secure else "ws") if scope["type"] == "websocket"
                     else self.public_scheme}

        held: Message | None = None  # a page's response start, sent once its body is complete
        chunks: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                message["headers"] = headers
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                    if content_type.startswith(b"text/html") and _is_app_page(scope["path"]):
                        held = message  # its policy depends on the body: wait for it
                        return
                    headers.append((b"content-security-policy", DEFAULT_CSP))
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                held["headers"].append((b"content-security-policy", csp_for_page(body)))
                await send(held)
                held = None
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_top_level_navigation(headers: dict[str, str]) -> bool:
    """A link followed or an address typed: the other site cannot read the answer.
    Everything else a browser marks cross- or same-site (fetch, <img>, <script>,
    an iframe) could read or use it."""
    mode, dest = headers.get("sec-fetch-mode", "").lower(), headers.get("sec-fetch-dest", "").lower()
    return mode == "navigate" and dest == "document"


def _headers(scope: Scope) -> dict[str, str]:
    # Last value wins; duplicated Host/Origin headers are not something a browser sends.
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _refuse(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accept makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = {k.decode(): v.decode() for k, v in SECURITY_HEADERS}
    await PlainTextResponse(f"Forbidden: {reason}.\n", status_code=403, headers=headers)(scope, receive, send)
