"""Every request body is bounded before anything reads it.

Starlette's forms and Gradio's JSON routes read a body whole (a 60 MB JSON call
took the app from 145 to 259 MiB, then answered 500), and a multipart part of
/login was read before any size check. This middleware answers 413 with one
sentence as soon as a body is known to be too big: at once from its
Content-Length, or when the bytes received pass the limit (chunked bodies). The
application behind then sees the client gone, and nothing it sends is used.
A body that stops coming (BODY_IDLE_SECONDS without a byte), or a small one
that takes longer than SMALL_BODY_SECONDS in all, gets 408 the same way.

Limits by path: Gradio's upload route gets `--max-upload` (plus room for the
multipart framing; Gradio checks each file against it too); Gradio's other
routes (events, API calls) GRADIO_BODY_BYTES; the shell's own forms FORM_BYTES.
"""

from __future__ import annotations

import logging

import anyio
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop_app.web import GRADIO_PATH

log = logging.getLogger(__name__)

# Sign-in and first-run forms: a name, two passwords of at most 1 KiB, a token.
FORM_BYTES = 64 << 10
# An event's JSON: the values of the page's inputs (files go through the upload
# route). The notes box alone may hold 100,000 characters, up to ~600 KB as JSON.
GRADIO_BODY_BYTES = 8 << 20
MULTIPART_SLACK = 1 << 20
# A body must keep coming: a connection whose head is complete holds a descriptor
# for as long as its body lasts (the head timeout of http_protocol.py is over),
# so one that sends a byte and stalls, 240 times over, starved the app.
BODY_IDLE_SECONDS = 10.0
# ... and a small one must be done soon: a byte every 9 s is still a stall.
SMALL_BODY_SECONDS = 30.0


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_upload: int, gradio_path: str = GRADIO_PATH) -> None:
        self.app = app
        self.max_upload = max_upload
        self.gradio_path = gradio_path

    def limit_for(self, path: str) -> int:
        if path == self.gradio_path + "/gradio_api/upload":
            return self.max_upload + MULTIPART_SLACK
        if path.startswith(self.gradio_path + "/"):
            return GRADIO_BODY_BYTES
        return FORM_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send, limit)
            return

        received = 0
        refused = False
        complete = False  # after the body, receive() only waits for a disconnect: untimed
        deadline = None if limit > GRADIO_BODY_BYTES else anyio.current_time() + SMALL_BODY_SECONDS

        async def bounded_receive() -> Message:
            nonlocal received, refused, complete
            if refused:
                return {"type": "http.disconnect"}
            if complete:
                return await receive()
            wait = BODY_IDLE_SECONDS
            if deadline is not None:
                wait = min(wait, deadline - anyio.current_time())
            with anyio.move_on_after(max(wait, 0)) as timer:
                message = await receive()
            if timer.cancelled_caught:
                refused = True
                await _refuse(scope, receive, send, 408, "This request's body stopped coming; try again.\n")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    refused = True
                    await _too_large(scope, receive, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # once 413 is sent, the app's own answer goes nowhere
                await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The app noticed the "disconnect" by raising; the person already has the 413.
            log.debug("%s: body over %d bytes refused", scope["path"], limit, exc_info=True)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server (h11/httptools) refuses such a request before us
    return None


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    size = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
    await _refuse(scope, receive, send, 413, f"This request is too large: at most {size} is accepted here.\n")


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    # Connection: close, so the server does not try to read the rest of the body
    # as the next request.
    response = PlainTextResponse(text, status_code=status, headers={"cache-control": "no-store", "connection": "close"})
    await response(scope, receive, send)
