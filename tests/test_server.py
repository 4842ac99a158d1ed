"""The server's sockets themselves: Nagle, ports, and connections that never
finish a request head (a flood of them must not lock the browser out)."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from desktop_app.errors import UserError
from desktop_app.store import open_store
from desktop_app.web.app import create_app
from desktop_app.web.csrf import csrf_cookie
from desktop_app.web.http_protocol import HEADER_TIMEOUT_SECONDS, MAX_PENDING_HEADS
from desktop_app.web.server import OPEN_FILES_CAP, ServerThread, bind_socket
from tests.support.helpers import PASSWORD, AppProcess, LiveServer, csrf_from, make_settings


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


# --- The header timeout -----------------------------------------------------------

QUICK_TIMEOUT = 1.0  # in-process servers get a short one, so these tests take seconds
MARGIN = 2.0  # what a busy test machine may add to a timer
HALF_A_HEAD = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # and never the blank line that ends it


@contextlib.contextmanager
def serving(app, *, header_timeout: float, **options: int) -> Iterator[ServerThread]:  # type: ignore[no-untyped-def]
    sock = bind_socket("127.0.0.1", 0)
    try:
        server = ServerThread(app, sock, header_timeout=header_timeout, **options)
    except BaseException:
        sock.close()
        raise
    server.start()
    try:
        assert server.wait_started(30), f"server did not start: {server.error}"
        yield server
    finally:
        server.stop()


@pytest.fixture
def shell_app(data_dir: Path) -> Iterator[Starlette]:
    """The real app without its UI, with the account alice, for a ServerThread of the test's making."""
    settings = make_settings(data_dir)
    services = open_store(settings)
    services.accounts.create("alice", PASSWORD)
    yield create_app(settings, services, None)
    services.close()


def connect(server: ServerThread) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=10)


def raw_request(path: str, port: int, *, method: str = "GET", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body, or b"" if the server closed the connection first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in head.lower().split(b"\r\n")[1:])
    length = int(fields[b"content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        body += chunk
    return head + b"\r\n\r\n" + body


def closed_by(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes `sock` (EOF or reset) before `deadline` (time.monotonic())."""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
    return False


def test_connections_that_never_finish_a_request_head_are_closed(shell_app: Starlette) -> None:
    with serving(shell_app, header_timeout=QUICK_TIMEOUT) as server:
        with connect(server) as silent, connect(server) as half, connect(server) as reused:
            # `silent` connects and sends nothing.
            half.sendall(HALF_A_HEAD)
            # Kept alive after one request, then half of the next head: the first byte
            # cancels uvicorn's keep-alive timer, so only the header timeout ends this one.
            reused.sendall(raw_request("/healthz", server.port))
            assert read_response(reused).startswith(b"HTTP/1.1 200")
            reused.sendall(HALF_A_HEAD)
            deadline = time.monotonic() + QUICK_TIMEOUT + MARGIN
            with connect(server) as fresh:  # meanwhile a whole request is served as usual
                fresh.sendall(raw_request("/login", server.port))
                assert read_response(fresh).startswith(b"HTTP/1.1 200")
            closed = {name: closed_by(sock, deadline) for name, sock in
                      (("silent", silent), ("half a head", half), ("half the next head", reused))}
        assert closed == {"silent": True, "half a head": True, "half the next head": True}


def test_a_request_body_that_arrives_slowly_is_not_cut(shell_app: Starlette) -> None:
    """The deadline is for the head only: a body may take its time (an upload on a slow disk, say)."""
    with serving(shell_app, header_timeout=QUICK_TIMEOUT) as server:
        with httpx.Client(base_url=server.url) as client:
            page = client.get("/login")
            csrf_value = client.cookies[csrf_cookie()]
        body = urlencode({"username": "alice", "password": PASSWORD, "csrf": csrf_from(page.text),
                          "next": "/gradio/"}).encode()
        origin = server.url.rstrip("/")
        head = raw_request("/login", server.port, method="POST", headers={
            "Origin": origin, "Cookie": f"{csrf_cookie()}={csrf_value}",
            "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body)),
        })
        with connect(server) as upload, connect(server) as stalled:
            stalled.sendall(HALF_A_HEAD)  # the control: the header timeout is at work meanwhile
            upload.sendall(head)
            t0 = time.monotonic()
            pieces = [body[i:i + 8] for i in range(0, len(body), 8)]
            for piece in pieces:  # the body over 2.5 header timeouts
                time.sleep(2.5 * QUICK_TIMEOUT / len(pieces))
                upload.sendall(piece)
            took = time.monotonic() - t0
            response = read_response(upload)
            assert closed_by(stalled, time.monotonic() + 0.1), "the header timeout did not close the stalled connection"
        assert took > 2 * QUICK_TIMEOUT
        assert response.startswith(b"HTTP/1.1 303") and b"location: /gradio/" in response.lower(), response[:300]


def _closed_now(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (EOF or reset), without waiting. For a
    socket the server sends nothing on: any bytes would be consumed."""
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        sock.settimeout(10)


def test_a_flood_of_unfinished_heads_keeps_only_the_newest_few_open(shell_app: Starlette) -> None:
    """The cap on connections awaiting a head: past it, the one waiting longest is closed,
    so a flood holds at most that many descriptors and the newest (the browser's) are served.
    A long header timeout: here only the cap closes anything."""
    cap, count = 8, 30
    with serving(shell_app, header_timeout=60, max_pending_heads=cap) as server, contextlib.ExitStack() as stack:
        # Kept alive after a response: waiting for its next head, so the oldest waiting of all.
        idle = stack.enter_context(connect(server))
        idle.sendall(raw_request("/healthz", server.port))
        assert read_response(idle).startswith(b"HTTP/1.1 200")
        # Its head complete, its body not yet sent: not waiting for a head, never closed for the cap.
        # (The 100 Continue says the server has parsed the head: before it, the upload is waiting too.)
        form = b"username=alice&password=x"
        upload = stack.enter_context(connect(server))
        upload.sendall(raw_request("/login", server.port, method="POST", headers={
            "Origin": server.url.rstrip("/"), "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(form)), "Expect": "100-continue"}))
        assert upload.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        flood = [stack.enter_context(connect(server)) for _ in range(count)]
        for sock in flood:
            sock.sendall(HALF_A_HEAD)
        deadline = time.monotonic() + MARGIN
        closed = [False] * count
        while sum(closed) < count - cap and time.monotonic() < deadline:
            time.sleep(0.02)
            closed = [was or _closed_now(sock) for was, sock in zip(closed, flood, strict=True)]
        time.sleep(0.2)  # and no more than that
        closed = [was or _closed_now(sock) for was, sock in zip(closed, flood, strict=True)]
        kept = [n for n, was in enumerate(closed) if not was]
        assert kept == list(range(count - cap, count)), f"kept open: {kept}"
        assert _closed_now(idle), "the idle kept-alive connection was not closed"
        assert not _closed_now(upload), "a connection past its head was closed"
        t0 = time.monotonic()
        with connect(server) as fresh:  # served at once, not after the 60 s
            fresh.sendall(raw_request("/login", server.port))
            assert read_response(fresh).startswith(b"HTTP/1.1 200")
        took = time.monotonic() - t0
        upload.sendall(form)  # and the upload, untouched, completes
        assert read_response(upload).startswith(b"HTTP/1.1 "), "the upload got no response"
    assert took < MARGIN, f"the request took {took:.1f}s"


async def _slow_events(request: Request) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        for n in range(5):
            yield f"data: {n}\n\n"
            await anyio.sleep(0.5)
    return StreamingResponse(events(), media_type="text/event-stream")


def test_a_response_that_streams_for_longer_than_the_header_timeout_is_not_cut() -> None:
    """As Gradio's event streams do: the head came long ago, the response goes on."""
    app = Starlette(routes=[Route("/events", _slow_events)])
    with serving(app, header_timeout=QUICK_TIMEOUT) as server:
        with connect(server) as stream, connect(server) as stalled:
            stalled.sendall(HALF_A_HEAD)  # the control: the header timeout is at work meanwhile
            stream.sendall(raw_request("/events", server.port))
            t0 = time.monotonic()
            received = b""
            while not received.endswith(b"0\r\n\r\n"):  # the last chunk of a chunked body
                chunk = stream.recv(65536)
                assert chunk, f"the stream was cut after {time.monotonic() - t0:.1f}s: {received!r}"
                received += chunk
            took = time.monotonic() - t0
            assert closed_by(stalled, time.monotonic() + 0.1), "the header timeout did not close the stalled connection"
        assert took > 2 * QUICK_TIMEOUT
        assert all(f"data: {n}".encode() in received for n in range(5))


# --- The flood, against the app as a user runs it -----------------------------------

FLOOD = 245
CHILD_FD_LIMIT = 256  # macOS's default soft limit


def _wait_for_ui(app: AppProcess, log_dir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and app.proc.poll() is None:
        if any("Gradio UI ready" in f.read_text() for f in log_dir.glob("*.log")):
            return
        time.sleep(0.1)
    logs = "".join(f.read_text() for f in log_dir.glob("*.log"))
    raise AssertionError(f"the Gradio UI did not load (app {'ended' if app.proc.poll() is not None else 'running'}): "
                         f"{logs[-1500:]}")


@contextlib.contextmanager
def app_process(tmp_path: Path, fd_limit: tuple[int, int]) -> Iterator[tuple[AppProcess, str]]:
    """`python -m desktop_app --headless` under an open file limit; yields it and its launch URL."""
    app = AppProcess(tmp_path / "data", "--log-dir", str(tmp_path / "logs"), fd_limit=fd_limit,
                     stderr_to=tmp_path / "stderr.txt")
    try:
        yield app, app.wait_ready()
    finally:
        app.kill()


@contextlib.contextmanager
def flood(launch: str, count: int = FLOOD) -> Iterator[list[socket.socket]]:
    """`count` connections to the app that never finish a request head: half send nothing, half half a head."""
    parts = urlsplit(launch)
    assert parts.hostname is not None and parts.port is not None
    with contextlib.ExitStack() as stack:
        socks = []
        for n in range(count):
            sock = stack.enter_context(socket.create_connection((parts.hostname, parts.port), timeout=10))
            if n % 2:
                sock.sendall(HALF_A_HEAD)
            socks.append(sock)
        yield socks


def open_launch(launch: str, timeout: float) -> float:
    """Seconds until the launch URL answered as it should (a redirect to the login page)."""
    t0 = time.monotonic()
    try:
        r = httpx.get(launch, timeout=timeout)
    except httpx.TimeoutException:
        pytest.fail(f"the launch URL did not answer within {timeout:.0f}s of the flood")
    assert r.status_code == 303 and r.headers["location"] == "/login", (r.status_code, r.text)
    return time.monotonic() - t0


def test_a_flood_of_unfinished_heads_at_start_neither_delays_the_launch_nor_starves_the_ui(tmp_path: Path) -> None:
    """The attack as found: FLOOD connections that never finish their heads, before any
    token or sign-in, against an app held to 256 descriptors (a hard limit too, so raising
    the soft one cannot help), sent right after READY, while Gradio is still importing and
    needs descriptors of its own. The cap on waiting connections closes all but the newest
    few at once: the browser is served without waiting for the header timeout, and the UI builds."""
    with app_process(tmp_path, (CHILD_FD_LIMIT, CHILD_FD_LIMIT)) as (app, launch):
        assert not any("Gradio UI ready" in f.read_text() for f in (tmp_path / "logs").glob("*.log")), \
            "the UI was built before the flood: this test would prove nothing"
        with flood(launch) as flooding:
            took = open_launch(launch, timeout=HEADER_TIMEOUT_SECONDS + 5)
            # The cap at work, not the header timeout: all but the newest few closed already.
            deadline = time.monotonic() + 2
            while (left_open := sum(not _closed_now(sock) for sock in flooding)) > MAX_PENDING_HEADS \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            _wait_for_ui(app, tmp_path / "logs")
        assert app.proc.poll() is None, "the app ended"
    assert left_open <= MAX_PENDING_HEADS, f"{left_open} of the flood's connections left open"
    assert took < 3, f"the launch took {took:.1f}s"


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit() to read another process's limit")
def test_a_flood_right_at_start_is_absorbed_by_the_raised_open_file_limit(tmp_path: Path) -> None:
    """macOS's default: a soft limit of 256 under a higher hard one. The app raises the soft
    one, so the same flood, sent while Gradio is still importing, neither delays the launch
    nor starves the import."""
    ours = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = 4096 if ours == resource.RLIM_INFINITY else min(4096, ours)
    with app_process(tmp_path, (CHILD_FD_LIMIT, hard)) as (app, launch), flood(launch):
        took = open_launch(launch, timeout=5)
        assert resource.prlimit(app.proc.pid, resource.RLIMIT_NOFILE) == (min(hard, OPEN_FILES_CAP), hard)
        _wait_for_ui(app, tmp_path / "logs")
    assert took < 3, f"the launch took {took:.1f}s"
