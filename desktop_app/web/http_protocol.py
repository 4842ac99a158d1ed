"""uvicorn's HTTP/1.1 protocol with a deadline for each request head.

uvicorn closes a connection that sits idle between requests (`timeout_keep_alive`),
but it has no timeout for the request head itself: a client that connects and
sends nothing, or half a request line and headers, keeps its file descriptor for
as long as it likes. A few hundred such connections (256 descriptors is macOS's
default limit) leave the server unable to accept the browser's own connection.
Worse, `timeout_keep_alive` is cancelled by the first byte received, so even the
wait between requests has no bound once half of the next head has arrived.
uvicorn has had this timeout on its list since 2018 ("--timeout-request-start",
https://github.com/Kludex/uvicorn/issues/157); until it ships one, this is it.

A timeout alone still lets a flood hold every descriptor for its 10 s: the
browser cannot connect meanwhile, and under a hard limit of 256 the Gradio import
(running beside the server at start) fails to open its files and the app exits.
So each server also caps the connections waiting for a head: past
MAX_PENDING_HEADS, the one that has waited longest is closed. A flood then holds
at most that many descriptors, and the newest connection, the browser's, is served.
(The cap sees a connection only once it is accepted; how many asyncio accepts at
once, before the cap can close any, is server.py's ACCEPT_BACKLOG.)

This is the only module that knows uvicorn's protocol internals. It relies on:
- `H11Protocol.conn`, the connection's `h11.Connection`, whose `their_state` is
  `h11.IDLE` exactly while the client's next request head is incomplete;
- `H11Protocol.handle_events()`, which uvicorn calls after feeding received bytes
  to h11, and `on_response_complete()`, which it calls after each response.
If those are missing, the connection gets uvicorn's own behaviour (no header
timeout, no cap) and one warning is logged; nothing breaks. And the timer and the
cap close only a connection that h11 says is still waiting for a request head, so
a request in progress (an upload, a streaming response, a Gradio event stream)
is never cut, even if uvicorn stopped calling the hooks.

h11, not httptools: uvicorn is installed without its `[standard]` extras, so
`http="auto"` means h11 here anyway; naming the class keeps it so if httptools
ever turns up in the environment (the traffic of one local browser needs no
faster parser).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

# A local browser sends its request head within milliseconds of connecting (or of
# the previous response, on a kept-alive connection). 10 s leaves room for a machine
# that is busy starting a window or swapping, and frees a stalled connection's
# descriptor soon enough that a flood of them delays the app by seconds, not forever.
# (nginx and Node.js default to 60 s, for the internet's slow links; ours is loopback.)
HEADER_TIMEOUT_SECONDS = 10.0

# How many connections may wait for a request head at once, per server. A browser
# opens at most 6 connections per host at a time (plus a speculative preconnect or
# two), and only for the milliseconds before it sends a head; kept-alive ones wait
# too, idle, and closing the oldest of those costs the browser a reconnect. Gradio's
# event streams are past their heads, so they never count, however many tabs are
# open. 64 is ten times what the browser needs, and leaves most of macOS's 256
# descriptors to the app itself (Gradio's imports and files, SQLite, the logs).
MAX_PENDING_HEADS = 64

_HOOKS = ("handle_events", "on_response_complete")


def h11_protocol(header_timeout: float = HEADER_TIMEOUT_SECONDS,
                 max_pending_heads: int = MAX_PENDING_HEADS) -> type[asyncio.Protocol]:
    """The class to pass as `uvicorn.Config(http=...)`: one per server, since the
    class holds the server's registry of connections waiting for a head."""
    if max_pending_heads < 1:
        raise ValueError(f"max_pending_heads must be at least 1, not {max_pending_heads}")

    class Protocol(HeaderTimeoutH11Protocol):
        HEADER_TIMEOUT = header_timeout
        MAX_PENDING_HEADS = max_pending_heads

    return Protocol


@functools.cache
def _warn_unsupported(reason: str) -> None:
    # Once per process, not once per connection.
    log.warning("uvicorn's internals have changed (%s): connections get no header timeout", reason)


def _unsupported_reason(protocol: H11Protocol) -> str | None:
    missing = [name for name in _HOOKS if not callable(getattr(H11Protocol, name, None))]
    if missing:
        return f"H11Protocol has no {', '.join(missing)}"
    if not isinstance(getattr(protocol, "conn", None), h11.Connection):
        return "H11Protocol.conn is not an h11.Connection"
    return None


class HeaderTimeoutH11Protocol(H11Protocol):
    """Closes a connection whose request head is not complete HEADER_TIMEOUT seconds
    after the connection was accepted or its previous response was sent. The
    deadline is not pushed back by bytes that arrive: a head sent one byte at a
    time is cut like one never sent. And when more than MAX_PENDING_HEADS
    connections wait for a head, closes the one that started waiting first."""

    HEADER_TIMEOUT = HEADER_TIMEOUT_SECONDS
    MAX_PENDING_HEADS = MAX_PENDING_HEADS  # the module's constant (a class body sees the globals)
    # The connections whose head timer runs, oldest first (a dict as an ordered set).
    # Per class, and each server has a class of its own (h11_protocol()), so one
    # event loop uses it: no lock.
    _waiting: dict[HeaderTimeoutH11Protocol, None] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._waiting = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_transport: asyncio.Transport | None = None
        reason = _unsupported_reason(self)
        if reason is not None:
            _warn_unsupported(reason)
        self._head_watched = reason is None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as in H11Protocol
        super().connection_made(transport)
        self._head_transport = transport
        self._watch_head()

    def handle_events(self) -> None:
        super().handle_events()
        # A head was parsed (timer off), or a body the client sent after an early
        # response has ended and the next head is due (timer on).
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _awaiting_head(self) -> bool:
        transport = self._head_transport
        return (
            transport is not None
            and not transport.is_closing()
            and transport.get_protocol() is self  # not handed over to a WebSocket protocol
            and self.conn.their_state is h11.IDLE
        )

    def _watch_head(self) -> None:
        if not self._head_watched:
            return
        if not self._awaiting_head():
            self._stop_head_timer()
        elif self._head_timer is None:  # already running: the deadline stays where it was
            self._head_timer = asyncio.get_running_loop().call_later(self.HEADER_TIMEOUT, self._head_timed_out)
            self._waiting[self] = None
            self._close_oldest_waiting()

    def _stop_head_timer(self) -> None:
        # In the registry exactly while the timer runs: every path that ends the wait
        # (a head, connection_lost, a WebSocket handover) comes here, the timer's
        # own callback aside.
        self._waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _close_oldest_waiting(self) -> None:
        # The newest is the one to keep: under a flood it is likely the browser's.
        # (It was just added last, so only a limit below 1 could bring it up here.)
        while len(self._waiting) > self.MAX_PENDING_HEADS and (oldest := next(iter(self._waiting))) is not self:
            transport = oldest._head_transport
            awaiting = oldest._awaiting_head()
            oldest._stop_head_timer()
            if awaiting and transport is not None:  # else past its head unseen by our hooks: only forgotten
                # Debug, not warning: it is the flood, or an idle kept-alive connection the browser reopens.
                log.debug("closing the connection that waited longest for a request head (%d were waiting)",
                          self.MAX_PENDING_HEADS + 1)
                transport.close()  # connection_lost() does uvicorn's bookkeeping

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._waiting.pop(self, None)
        if self._awaiting_head():
            assert self._head_transport is not None
            # Debug, not warning: browsers' speculative preconnections end this way too.
            log.debug("closing a connection whose request head did not arrive within %.1f s", self.HEADER_TIMEOUT)
            self._head_transport.close()  # connection_lost() does uvicorn's bookkeeping
