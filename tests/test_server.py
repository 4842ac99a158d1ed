"""The server's sockets themselves."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.errors import UserError
from desktop_app.server import bind_socket
from tests.helpers import LiveServer, make_settings


def _sockets_of_this_process() -> Iterator[socket.socket]:
    """Every TCP socket this process holds (the server thread's included), as duplicates."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            dup = socket.socket(fileno=os.dup(int(name)))
        except OSError:  # closed meanwhile
            continue
        if dup.family == socket.AF_INET and dup.type == socket.SOCK_STREAM:
            yield dup
        else:
            dup.close()


def test_the_server_sends_small_writes_at_once(data_dir: Path) -> None:
    """Nagle's algorithm off (TCP_NODELAY) on every connection the server accepts.
    With it on, a response's body waits for the ACK of its headers, which the
    client delays 40 ms on loopback: seen here on every page and event stream."""
    live = LiveServer(make_settings(data_dir), with_ui=False)
    try:
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as client:
            client.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n\r\n".encode())
            assert client.recv(12) == b"HTTP/1.1 200"  # accepted and answered
            ours = client.getsockname()
            found = []
            for sock in _sockets_of_this_process():
                with sock, contextlib.suppress(OSError):  # not connected: the listener
                    if sock.getpeername() == ours:
                        found.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        assert found, "the server's end of the connection was not found"
        assert found == [1], f"TCP_NODELAY is {found[0]} on the server's end of the connection"
    finally:
        live.close()


def test_a_preferred_port_is_used_when_free_and_skipped_when_taken() -> None:
    with socket.socket() as probe:  # a port that is free right now
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with bind_socket("127.0.0.1", 0, preferred=free) as sock:
        assert sock.getsockname()[1] == free
        # Taken (by that socket): any other free port instead, no error.
        with bind_socket("127.0.0.1", 0, preferred=free) as other:
            assert other.getsockname()[1] not in (0, free)
        # An explicit --port is never swapped for another one.
        with pytest.raises(UserError, match=f"Port {free} on 127.0.0.1 is already in use"):
            bind_socket("127.0.0.1", free, preferred=free + 1)
