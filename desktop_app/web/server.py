"""The web server in a thread: start, wait until started, stop. Nothing else
(but the open file limit the server's connections need, raised at start).

We bind the socket ourselves on 127.0.0.1 (port 0 = a free one) and hand it to
uvicorn: the port is known before anything serves, there is no race for it,
and a bind error is an ordinary exception in the caller. uvicorn runs in its own
thread with its own event loop, so the main thread stays free for signals (or,
later, the GUI loop), and stopping is cooperative: `should_exit`, then join.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading

import uvicorn

from desktop_app.errors import UserError
from desktop_app.logs import FILE_ONLY
from desktop_app.web.http_protocol import HEADER_TIMEOUT_SECONDS, MAX_PENDING_HEADS, h11_protocol

log = logging.getLogger(__name__)

# Every connection holds a descriptor, and macOS starts a process with a soft limit
# of 256: a few hundred stalled connections (the header timeout frees them, but
# only after HEADER_TIMEOUT_SECONDS) would leave none to accept the browser with.
# The hard limit is the real bound; this cap keeps the number sane where the hard
# limit is "unlimited". macOS refuses a soft limit above kern.maxfilesperproc even
# when the hard limit is unlimited; its OPEN_MAX (10240) is the fallback.
OPEN_FILES_CAP = 65536
_MACOS_OPEN_MAX = 10240

# How many connections the kernel queues for us, and so (asyncio uses the same
# number) how many the event loop accepts in one turn. A whole turn's worth is
# accepted before any of it reaches the protocol, where the cap on connections
# waiting for a head (http_protocol.py) closes the extras, and their descriptors
# come back only three turns later: a flood briefly holds MAX_PENDING_HEADS plus
# about three turns' worth. uvicorn's default of 2048 let one burst take all 256
# while Gradio was importing at start (its import failed and the app exited);
# with 32 the peak stays near 180. The cost: while the queue is full a connection
# attempt waits for its SYN to be retried (1 s), which only a flood makes happen.
ACCEPT_BACKLOG = 32


def bind_socket(host: str, port: int, *, preferred: int | None = None) -> socket.socket:
    """Listen on host:port (0: any free port). `preferred`, with port 0: try that
    port first and take any free one if it is not available."""
    if port == 0 and preferred:
        try:
            return _bind(host, preferred)
        except UserError:
            log.info("port %d is not available; taking any free port", preferred)
    return _bind(host, port)


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not the default 0: asyncio turns Nagle off (TCP_NODELAY) only
    # on connections whose socket says it is TCP, and accepted sockets inherit
    # this one's. With Nagle on, each response's body waited for the ACK of its
    # headers, which loopback delays 40 ms: +40 ms on every page, stylesheet
    # and Gradio event stream (measured: sign-in -> usable UI 0.37 -> 0.30 s).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # SO_REUSEADDR lets a restart reuse a port in TIME_WAIT; on loopback
        # with an explicit host it cannot steal a port another process listens on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(ACCEPT_BACKLOG)  # uvicorn listens again with the same number
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"Port {port} on {host} is already in use. Choose another with --port, or 0 for any free port."
            ) from None
        raise UserError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    sock.set_inheritable(True)
    return sock


def raise_open_file_limit() -> None:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (at most OPEN_FILES_CAP).
    Here, not in the CLI: the server is why the process needs descriptors, and it
    runs under both entry points (headless and windowed)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit (its handle limit is in the millions)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = resource.RLIM_INFINITY
    target = OPEN_FILES_CAP if hard == unlimited else min(hard, OPEN_FILES_CAP)
    if soft == unlimited or soft >= target:
        return
    for wanted in (target, _MACOS_OPEN_MAX):
        if wanted <= soft:
            return
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # above what the system allows
            continue
        log.debug("open file limit raised from %d to %d", soft, wanted)
        return
    log.info("could not raise the open file limit above %d", soft)


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._started_event.set()


class ServerThread:
    def __init__(self, app, sock: socket.socket, *,
                 header_timeout: float = HEADER_TIMEOUT_SECONDS,
                 max_pending_heads: int = MAX_PENDING_HEADS,
                 forwarded_allow_ips: str | None = None) -> None:
        """`sock` comes from bind_socket(), so a busy port fails before the slow
        app build rather than after it. `header_timeout`, `max_pending_heads`: see
        http_protocol.py (tests lower them). `forwarded_allow_ips`: a team
        server's proxies, whose X-Forwarded-For/-Proto are believed."""
        self.sock = sock
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_config=None,  # our logging setup (cli.py) applies
            access_log=False,
            lifespan="on",
            # Closes connections that never finish a request head, and the oldest
            # waiting one when too many wait; idle ones between requests are closed
            # by uvicorn's timeout_keep_alive (5 s), or sooner by that cap.
            http=h11_protocol(header_timeout, max_pending_heads),
            # No limit_concurrency: it answers 503 once that many connections are open,
            # and connections that never send a request count too, so it would let a
            # flood lock out the browser with fewer of them; and each open Gradio tab
            # holds an event stream that must not be refused.
            backlog=ACCEPT_BACKLOG,
            # Every client of a loopback server is "127.0.0.1", uvicorn's default
            # trusted proxy: any local program could set X-Forwarded-For/-Proto.
            # Only a team server names its proxies (`serve --forwarded-allow-ips`).
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips or "",
            timeout_graceful_shutdown=5,
            server_header=False,
        )
        self._started = threading.Event()
        self._server = _Uvicorn(config, self._started)
        self._thread = threading.Thread(target=self._run, name="desktop-app-server", daemon=False)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def _run(self) -> None:
        try:
            # Off the main thread uvicorn installs no signal handlers: signals
            # belong to cli.py, which asks us to stop through stop().
            self._server.run(sockets=[self.sock])
        except BaseException as exc:  # reported to the caller by wait_started / stop / alive
            self.error = exc
            log.error("the server thread ended with %s: %s", type(exc).__name__, exc, exc_info=True,
                      extra=FILE_ONLY)
        finally:
            self.sock.close()

    def start(self) -> None:
        raise_open_file_limit()
        self._thread.start()

    def wait_started(self, timeout: float) -> bool:
        """True once the server accepts requests; False if it died or timed out."""
        deadline_hit = not self._wait_either(timeout)
        return not deadline_hit and self._started.is_set()

    def _wait_either(self, timeout: float) -> bool:
        # Wake on "started" or on the thread ending, whichever comes first.
        step = 0.01
        waited = 0.0
        while waited < timeout:
            if self._started.wait(step) or not self._thread.is_alive():
                return True
            waited += step
        return False

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def death_notice(self) -> str:
        """One sentence for a server thread that ended without being asked to."""
        error = self.error
        cause = "" if error is None else f" ({type(error).__name__}{': ' + str(error) if str(error) else ''})"
        return f"The local server stopped unexpectedly{cause}."

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
