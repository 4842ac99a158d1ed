"""What the shell lets through between a signed-in browser and Gradio.

Signing in decides who enters; it does not make Gradio's routes safe. Gradio is
written as a public, single-user server: it keys state by a `session_hash` the
browser makes up, serves any file in its temp folder to whoever has the path,
fetches `file=http://...` URLs itself, and copies request headers into ranged
responses. This pure-ASGI middleware sits in front of the Gradio mount, inside
the session gate (so it knows the account) and:

- refuses a `file=` value that names a URL (any scheme, or `//`, in any encoding)
  before Gradio can connect anywhere, and the same in file inputs of events;
- binds every session hash (and upload id) to the signed-in session: Gradio sees
  HMAC(session, hash), so no one can name another session's state, streams or
  heartbeats, and a session that ends takes its namespace with it;
- serves a file of Gradio's temp folder only to an account it was given to
  (files.FileOwners), and refuses event inputs naming anyone else's file;
- lets only a fixed set of response headers out (Gradio's RangedFileResponse
  copies every request header into its answer, Cookie included, which a script
  in the page could read: that would defeat HttpOnly);
- replaces an error message that carries internals (a path of ours, a traceback,
  an object's repr) with one sentence.

Body sizes are bounded before this (limits.BodyLimit); the ASGI plumbing is in
gradio_traffic.py. Each rule is tested against the real app (test_gradio_shield.py).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import anyio.to_thread
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from desktop_app.context import context_of
from desktop_app.store.files import SHARED, FileOwners, normalize, spellings
from desktop_app.web.gradio_events import EVENT_ROUTE, EventOwners
from desktop_app.web.gradio_payloads import TOO_DEEP, dumps, names_a_url, parse_body
from desktop_app.web.gradio_traffic import (
    API,
    FILE_ROUTE,
    ResponseFilter,
    header,
    headers_for_gradio,
    inner_path,
    read_body,
    refuse,
    replay,
)

log = logging.getLogger(__name__)

# Query parameters that name client-chosen state.
BOUND_PARAMETERS = ("session_hash", "upload_id")
GENERIC_ERROR = "Something went wrong. The details are in the app's log."
# Routes that answer with a stream that lasts (SSE): queue/data, heartbeat,
# call/{api}/{event_id}, upload_progress, and media streams.
_STREAM_ROUTE = re.compile(r"^/gradio_api/(queue/data|heartbeat/|call/|upload_progress|stream/)")
# A page holds two (heartbeat and queue/data) and briefly a few more: 32 is sixteen
# tabs of one account, and keeps a flood of them from taking every descriptor.
MAX_STREAMS_PER_SESSION = 32
MAX_JSON_CONTAINERS = 200_000  # objects and arrays in one request body (a notes box of "{" fits)
_LEAKY = re.compile(r"Traceback \(most recent call last\)|\bobject at 0x[0-9a-f]+|File \"[^\"]+\", line \d+")


class GradioShield:
    def __init__(self, app: ASGIApp, *, owners: FileOwners, private: Iterable[str] = (), shared: Any = None) -> None:
        """`owners` records and answers who may fetch which temp file. `private`:
        paths that must never appear in an error shown to a person (the data,
        cache and log folders). `shared`: an object whose `shared_files` (once
        the UI is built) lists the files the UI itself carries."""
        self.app = app
        self.owners = owners
        self.private = tuple(p for p in private if p)
        self.shared = shared
        self._shared_claimed = False
        self._key = secrets.token_bytes(32)  # per process: bindings need not outlive it
        self._known: set[tuple[str, str]] = set()  # claims already in the store
        self._streams: dict[str, int] = {}  # session -> event streams open now
        # Requests being answered, heartbeats aside (they last as long as a page): what
        # `serve` waits for on SIGTERM. queue/data ends with the session's last event.
        self.in_flight = 0
        self.events = EventOwners()  # who may name which event (gradio_events.py)

    # -- the session binding -------------------------------------------------
    def bind(self, session_id: str, client_value: str) -> str:
        digest = hmac.new(self._key, f"{session_id}\0{client_value}".encode("utf-8", "surrogatepass"),
                          hashlib.sha256).digest()
        return base64.b32encode(digest[:15]).decode().lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = context_of(scope)
        if ctx is None or ctx.session is None:  # the gate lets no one here unsigned; be sure
            await JSONResponse({"detail": "Not signed in."}, status_code=401)(scope, receive, send)
            return
        username, session_id = ctx.session.username, ctx.session.id_hash
        await self._claim_shared()
        path = inner_path(scope)
        method = scope.get("method", "GET")

        refusal = await self._check_file_route(path, username) or self._check_event(path, method, session_id)
        if refusal is not None:
            await refuse(scope, receive, send, *refusal)
            return

        scope = dict(scope)
        scope["headers"] = headers_for_gradio(scope.get("headers", []), file_route=bool(FILE_ROUTE.match(path)))
        scope["query_string"] = await self._bind_query(scope.get("query_string", b""), session_id, username)
        scope = self._bind_path(scope, path, method, session_id)

        if method == "POST" and path.startswith(API + "/") and path != API + "/upload":
            body = await read_body(receive)
            content_type = header(scope, b"content-type")
            if content_type.startswith(b"multipart/"):
                # Gradio's blob form of component_server carries its session hash in
                # a form field we do not rewrite: refused rather than let through unbound.
                await refuse(scope, receive, send, 415, "This request format is not accepted by this app.")
                return
            body, refusal = await self._bind_body(body, path, session_id, username)
            if refusal is not None:
                await refuse(scope, receive, send, *refusal)
                return
            receive = replay(body, receive)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-length"] + [
                (b"content-length", str(len(body)).encode())]

        streaming = method == "GET" and _STREAM_ROUTE.match(path) is not None
        if streaming and self._streams.get(session_id, 0) >= MAX_STREAMS_PER_SESSION:
            # Each stream holds a connection, and so a descriptor, for as long as it lasts.
            await refuse(scope, receive, send, 429, "Too many open pages of this app; close some.")
            return
        if streaming:
            self._streams[session_id] = self._streams.get(session_id, 0) + 1
        work = not path.startswith(API + "/heartbeat/")
        self.in_flight += work
        try:
            await self.app(scope, receive, ResponseFilter(self, send, path, username, session_id))
        finally:
            self.in_flight -= work
            if streaming:
                self._streams[session_id] -= 1
                if not self._streams[session_id]:
                    del self._streams[session_id]

    async def _claim_shared(self) -> None:
        if self._shared_claimed or self.shared is None:
            return
        files = getattr(self.shared, "shared_files", None)
        if files is None:
            return  # not built yet
        self._shared_claimed = True
        await self.claim(SHARED, files)

    async def claim(self, username: str, paths: Iterable[str], session_id: str | None = None) -> None:
        """`session_id`: the session the answer goes to; the claim holds only while
        it lives (None for SHARED). The cache is per session, not per name: an
        account deleted and made again by another process starts with no claims."""
        key = session_id or SHARED
        new = [p for p in {normalize(p) for p in paths} if (key, p) not in self._known]
        new = [p for p in new if self.owners.covers(p)]
        if not new:
            return
        # A write (fsync): in a worker thread, and before the browser hears of the file.
        claimed = await anyio.to_thread.run_sync(
            functools.partial(self.owners.claim, username, new, session_id=session_id))
        if claimed is None:
            return  # the session ended meanwhile: nobody's file now
        if len(self._known) > 100_000:
            self._known.clear()  # only a cache of what the store holds
        self._known.update((key, p) for p in new)

    def _check_event(self, path: str, method: str, session_id: str) -> tuple[int, str] | None:
        match = EVENT_ROUTE.match(path)
        if not match or (match.group(1).startswith("call/") and method not in ("GET", "HEAD")):
            return None
        if not self.events.owns(session_id, match.group(2)):
            return 404, "No such event."
        return None

    async def _may_read(self, username: str, path: str) -> bool:
        return await anyio.to_thread.run_sync(self.owners.allowed, username, path)

    async def _path_refusal(self, value: str, username: str) -> str | None:
        """Why `username` may not name `value` (a file= path, a file input), or None.
        Every spelling Gradio or the kernel may take it for is checked (files.spellings)."""
        if names_a_url(value):
            return "url"
        if ".." in re.split(r"[\\/]", value):
            return "not yours"  # Gradio never gives out such a path: nothing to look up
        try:
            targets = spellings(value)
        except OSError:  # a path we cannot even resolve is no file to serve
            return "not yours"
        for target in targets:
            if self.owners.covers(target) and not await self._may_read(username, target):
                return "not yours"
        return None

    # -- requests --------------------------------------------------------------
    async def _check_file_route(self, path: str, username: str) -> tuple[int, str] | None:
        match = FILE_ROUTE.match(path)
        if not match:
            return None
        refusal = await self._path_refusal(match.group(1), username)
        if refusal == "url":
            return 403, "This app serves only its own files."
        if refusal is not None:
            return 404, "File not found."  # whether it exists is not this account's business
        return None

    async def _bind_query(self, query: bytes, session_id: str, username: str) -> bytes:
        """Bound parameters rewritten, a deep link kept only for its maker. Parsed
        the way Starlette parses it for Gradio (keys percent-decoded too:
        `session%5Fhash=` is `session_hash=`), so both see the same names."""
        if not query:
            return query
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if not any(k in BOUND_PARAMETERS or k == "deep_link" for k, _ in pairs):
            return query
        kept = []
        for key, value in pairs:
            if key in BOUND_PARAMETERS:
                value = self.bind(session_id, value)
            elif key == "deep_link" and not await self._owns_deep_link(value, username):
                continue  # the page and /config open as they are, without another's state
            kept.append((key, value))
        return urlencode(kept).encode("latin-1")

    def _bind_path(self, scope: dict, path: str, method: str, session_id: str) -> dict:
        # /gradio_api/heartbeat/{session_hash}; GET /gradio_api/stream/{session_hash}/{run}/...
        # (POST /gradio_api/stream/{event_id} names a server-made event id instead).
        parts = path.split("/")
        if len(parts) >= 4 and parts[1] == API[1:] and (
            parts[2] == "heartbeat" or (parts[2] == "stream" and method in ("GET", "HEAD") and len(parts) >= 5)
        ):
            parts[3] = self.bind(session_id, parts[3])
            inner = "/".join(parts)
            root = scope.get("root_path", "")
            full = root + inner if scope["path"].startswith(root) and root else inner
            scope["path"] = full
            scope["raw_path"] = quote(full).encode("latin-1")
        return scope

    async def _bind_body(self, body: bytes, path: str, session_id: str,
                         username: str) -> tuple[bytes, tuple[int, str] | None]:
        if body.count(b"{") + body.count(b"[") > MAX_JSON_CONTAINERS:
            # 8 MiB of `[{},{},...]` is ~600 MB of Python objects, for us and again for FastAPI.
            return body, (413, "This request has too many parts.")
        # Parsing and walking megabytes takes seconds: in a worker thread, so other
        # people's requests go on meanwhile.
        parsed = await anyio.to_thread.run_sync(parse_body, body)
        if parsed is None:
            return body, None  # not JSON: Gradio refuses it too (422), nothing in it is bound
        if parsed is TOO_DEEP:
            return body, (400, "This request is not valid JSON.")
        payload, paths = parsed
        # Every file named anywhere in the body, not only in `data`: call/v2 takes its
        # inputs by name, and FastAPI's 422 answers copy back whatever field was wrong.
        for value in paths:
            refusal = await self._path_refusal(value, username)
            if refusal == "url":
                return body, (403, "This app uses only its own files.")
            if refusal is not None:
                return body, (403, "That file is not available to this account.")
        if not isinstance(payload, dict):
            return body, None
        if path == API + "/cancel" and not self.events.owns(session_id, payload.get("event_id")):
            return body, (404, "No such event.")
        if payload.get("session_hash") is not None:  # None: Gradio uses the event's own id
            payload["session_hash"] = self.bind(session_id, str(payload["session_hash"]))
        return await anyio.to_thread.run_sync(dumps, payload), None

    async def _owns_deep_link(self, link: str, username: str) -> bool:
        """A deep link (Gradio's saved state of a page) opens only for its maker."""
        return bool(re.fullmatch(r"[A-Za-z0-9_\-]+", link)) and await self._may_read(
            username, self.deep_link_file(link))

    def deep_link_file(self, link: str) -> str:
        return os.path.join(self.owners.folder, "deep_links", link, "state.json")

    # -- responses -------------------------------------------------------------
    def scrub_error(self, text: str) -> str:
        if _LEAKY.search(text) or any(p in text for p in self.private):
            log.warning("an error message with internals was replaced for the page: %s", text[:500])
            return GENERIC_ERROR
        return text
