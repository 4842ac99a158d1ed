"""The ASGI plumbing of GradioShield (gradio_shield.py): what reaches Gradio of a
request (headers, a body read once and replayed) and what reaches the browser
of an answer (allowed headers only, the files it gives out claimed for the
account before the browser can ask for them, leaky error messages scrubbed).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from desktop_app.web.gradio_payloads import dumps, file_paths

if TYPE_CHECKING:
    from desktop_app.web.gradio_shield import GradioShield


API = "/gradio_api"


# Response headers Gradio may send to the browser. Anything else is dropped: a
# new Gradio release must not be able to add one that leaks (Set-Cookie included:
# the shell alone sets cookies).
ALLOWED_RESPONSE_HEADERS = frozenset({
    b"content-type", b"content-length", b"content-range", b"accept-ranges", b"content-disposition",
    b"content-encoding", b"cache-control", b"etag", b"last-modified", b"location", b"vary",
    b"retry-after", b"x-content-type-options", b"x-accel-buffering",
})


FILE_ROUTE = re.compile(r"^/gradio_api/file[=/](.*)$", re.S)


class ResponseFilter:
    """The send side: filters headers, claims the files an answer gives out
    (before the browser can ask for them), and scrubs error messages."""

    def __init__(self, shield: GradioShield, send: Send, path: str, username: str, session_id: str) -> None:
        self.shield, self.send = shield, send
        self.path, self.username, self.session_id = path, username, session_id
        self.mode = "pass"  # or "json" (buffered whole) or "sse" (line by line)
        self.ok = False  # a 2xx answer: only those give files out (a 422 echoes the request)
        self.start: Message | None = None
        self.buffer = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            self.ok = 200 <= message.get("status", 200) < 300
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() in ALLOWED_RESPONSE_HEADERS]
            message["headers"] = headers
            content_type = dict(headers).get(b"content-type", b"")
            api = self.path.startswith(API + "/") and not FILE_ROUTE.match(self.path)
            if api and content_type.startswith(b"application/json"):
                self.mode, self.start = "json", message
                return
            if api and content_type.startswith(b"text/event-stream"):
                self.mode = "sse"
            await self.send(message)
            return
        if message["type"] != "http.response.body" or self.mode == "pass":
            await self.send(message)
            return
        self.buffer += message.get("body", b"")
        more = message.get("more_body", False)
        if self.mode == "json":
            if more:
                return
            body = await self._json(self.buffer)
            assert self.start is not None
            start = self.start
            start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"] + [
                (b"content-length", str(len(body)).encode())]
            await self.send(start)
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        # SSE: forward whole lines only, each after its files are claimed.
        if more:
            cut = self.buffer.rfind(b"\n") + 1
            ready, self.buffer = self.buffer[:cut], self.buffer[cut:]
        else:
            ready, self.buffer = self.buffer, b""
        if ready or not more:
            ready = await self._sse(ready)
            await self.send({"type": "http.response.body", "body": ready, "more_body": more})

    async def _json(self, body: bytes) -> bytes:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return body
        payload = await self._inspect(payload)
        return dumps(payload)

    async def _sse(self, chunk: bytes) -> bytes:
        lines = chunk.split(b"\n")
        for i, line in enumerate(lines):
            if not line.startswith(b"data:"):
                continue
            try:
                payload = json.loads(line[5:])
            except (ValueError, UnicodeDecodeError):
                continue
            checked = await self._inspect(payload)
            if checked is not payload:
                lines[i] = b"data: " + dumps(checked)
        return b"\n".join(lines)

    async def _inspect(self, payload: Any) -> Any:
        """Claim the files in this answer for the account; returns the payload,
        or a copy whose leaky error messages were replaced."""
        shield = self.shield
        if not self.ok:
            pass
        elif self.path == API + "/upload" and isinstance(payload, list):
            await shield.claim(self.username, [p for p in payload if isinstance(p, str)], self.session_id)
        elif self.path == API + "/deep_link" and isinstance(payload, str) and payload:
            await shield.claim(self.username, [shield.deep_link_file(payload)], self.session_id)
        elif isinstance(payload, dict) and isinstance(payload.get("event_id"), str) and (
            self.path == API + "/queue/join" or self.path.startswith(API + "/call/")
        ):
            shield.events.started(payload["event_id"], self.session_id)
        else:
            await shield.claim(self.username, file_paths(payload), self.session_id)
        return scrub(payload, shield)


def scrub(payload: Any, shield: GradioShield) -> Any:
    """Error messages sit in `{"error": ...}` (events), `{"message": ...}` (Gradio's
unexpected_error) or `{"detail": ...}` (HTTP errors)."""
    if not isinstance(payload, dict):
        return payload
    changed = dict(payload)
    for key in ("error", "detail", "message"):
        if isinstance(payload.get(key), str):
            changed[key] = shield.scrub_error(payload[key])
    output = payload.get("output")
    if isinstance(output, dict):
        changed["output"] = scrub(output, shield)
    if changed == payload:
        return payload
    return changed


# What Gradio's file route needs to serve a file (and a ranged or conditional
# part of one). RangedFileResponse copies the request's headers into its answer,
# so on that route Gradio sees nothing else.
_FILE_REQUEST_HEADERS = frozenset({b"host", b"range", b"if-range", b"if-none-match", b"if-modified-since"})


def headers_for_gradio(headers: list[tuple[bytes, bytes]], *, file_route: bool) -> list[tuple[bytes, bytes]]:
    """Proxy headers never reach Gradio (it builds its URLs from X-Forwarded-Host:
    on loopback anyone could send one); file routes get only _FILE_REQUEST_HEADERS."""
    if file_route:
        return [(k, v) for k, v in headers if k in _FILE_REQUEST_HEADERS]
    return [(k, v) for k, v in headers if not k.startswith(b"x-forwarded-") and k != b"forwarded"]


def inner_path(scope: Scope) -> str:
    """The path inside the Gradio mount (Starlette keeps the full path, with root_path beside it)."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):]
    return path


def header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.lower()
    return b""


async def read_body(receive: Receive) -> bytes:
    # Bounded already by limits.BodyLimit, outside this middleware.
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then whatever comes next (a disconnect)

    return receive_again


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    await JSONResponse({"detail": message}, status_code=status, headers={"cache-control": "no-store"})(
        scope, receive, send)
