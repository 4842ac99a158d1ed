"""Real parts for tests: an app server in this process, the app as a child
process, and an HTTP client that signs in through the real login form."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from argon2 import PasswordHasher

from desktop_app.settings import Settings
from desktop_app.store import Store, open_store
from desktop_app.store.db import Database, StoreDatabase
from desktop_app.web import gradio_patches
from desktop_app.web.app import create_app
from desktop_app.web.gradio_loader import GradioLoader
from desktop_app.web.server import ServerThread, bind_socket

PASSWORD = "correct horse battery"
# argon2id at a test's cost (1 pass over 8 MiB, ~5 ms) for the servers tests run in
# their own process: the product's (3 passes over 64 MiB, ~0.2 s here) was most
# of those tests' CPU. Tests of timing, races and memory mark themselves
# `production_kdf`; the app as a child process (AppProcess, run_cli) always hashes
# at the product's cost.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
# How tests start the app as a user would; the packaging tests pass the frozen executable instead.
APP_COMMAND = (sys.executable, "-m", "desktop_app")


def app_env(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment every launch of the app in the tests gets: this process's,
    without the developer's own settings (DESKTOP_APP_*), with `overrides` laid
    over it (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKTOP_APP_")}
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def make_settings(data_dir: Path, **flags: object) -> Settings:
    # environ={} keeps the developer's own DESKTOP_APP_* variables out of tests.
    return Settings.build({"data_dir": str(data_dir), "headless": True, **flags}, environ={})


def serve_settings(data_dir: Path, public_url: str, **flags: object) -> Settings:
    """The settings of `serve --public-url public_url` (a team server)."""
    return Settings.build({"data_dir": str(data_dir), "public_url": public_url, **flags}, environ={}, serve=True)


@contextlib.contextmanager
def launched_client(launch: str) -> Iterator[httpx.Client]:
    """An HTTP client that has opened this launch's URL (and so holds its cookie)."""
    parts = urlsplit(launch)
    base = f"{parts.scheme}://{parts.netloc}"
    with httpx.Client(base_url=base, timeout=30, headers={"origin": base}) as client:  # as a browser would
        r = client.get(launch)
        assert r.status_code == 303 and r.headers["location"] == "/login", (r.status_code, r.text)
        yield client


class LiveServer:
    """The real app on a real loopback socket, in this process. Without a launch
    token unless asked: most tests are about what comes after it."""

    def __init__(self, settings: Settings, *, with_ui: bool = True, launch_token: str | None = None,
                 production_kdf: bool = False) -> None:
        self.settings = settings
        self.services: Store = open_store(settings, hasher=None if production_kdf else TEST_HASHER)
        self.loader = GradioLoader(settings).start() if with_ui else None
        self.app = create_app(settings, self.services, self.loader, launch_token=launch_token)
        self.server = ServerThread(self.app, bind_socket(settings.host, settings.port),
                                   forwarded_allow_ips=settings.forwarded_allow_ips)
        self.server.start()
        if not self.server.wait_started(60):
            raise RuntimeError(f"server did not start: {self.server.error}")
        self.url = self.server.url.rstrip("/")
        self.port = self.server.port

    def client(self, **kwargs: object) -> httpx.Client:
        # Our Origin on every request, as a browser sends on its POSTs; tests of other origins override it.
        headers = {"origin": self.url, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return httpx.Client(base_url=self.url, timeout=30, headers=headers, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self.server.stop()
        self.services.close()


def store_args(settings: Settings) -> list[str]:
    """The CLI's flags for the store a live server uses: its data dir (and so its
    cache: a deleted account's files go), and its PostgreSQL if it has one."""
    return [*(["--store", settings.store_url] if settings.store_url else []), "--data-dir", str(settings.data_dir)]


def open_database(settings: Settings) -> StoreDatabase:
    """The store's database opened as another process would (the CLI, a second instance)."""
    if settings.store_url:
        from desktop_app.store.pg import PgDatabase

        return PgDatabase(settings.store_url)
    return Database(settings.dirs.db_path)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_from(page.text), "next": "/gradio/"},
    )


class AppProcess:
    """`python -m desktop_app --headless` as a child process, as a user runs it:
    the one way the tests launch the app (the window's WindowApp is one too).
    `headless=False`: as launched by a double-click (a window if it can open one).
    `env`: see app_env. `data_dir=None`: the app's own default folders.
    `fd_limit`: its open file limit (soft, hard), as a system may set it.
    `stderr_to`: a file for its stderr instead of a pipe nobody reads while it
    runs (a test that makes it write a lot there)."""

    def __init__(self, data_dir: Path | None, *args: str, env: Mapping[str, str | None] | None = None,
                 command: Sequence[str] = APP_COMMAND, headless: bool = True, cwd: Path | None = None,
                 fd_limit: tuple[int, int] | None = None, stderr_to: Path | None = None) -> None:
        self.data_dir = data_dir
        self.stderr_to = stderr_to
        with contextlib.ExitStack() as files:
            stderr = files.enter_context(stderr_to.open("w")) if stderr_to else subprocess.PIPE
            self.proc = subprocess.Popen(
                [*command, *(["--headless"] if headless else []), *(["--data-dir", str(data_dir)] if data_dir else []),
                 *args],
                stdout=subprocess.PIPE, stderr=stderr, text=True, env=app_env(env), cwd=cwd,
                preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, fd_limit)) if fd_limit else None,
            )
        self.launch: str | None = None  # the READY line's URL, with this launch's token
        self.url: str | None = None  # scheme://host:port
        self.started_after: float | None = None

    def wait_ready(self, timeout: float = 60) -> str:
        """Returns the launch URL (open it first); `.url` is the bare origin."""
        t0 = time.monotonic()
        sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        while time.monotonic() - t0 < timeout:
            if sel.select(timeout=0.5):
                line = self.proc.stdout.readline()
                if line.startswith("READY "):
                    self.launch = line.split()[1]
                    parts = urlsplit(self.launch)
                    self.url = f"{parts.scheme}://{parts.netloc}"
                    self.started_after = time.monotonic() - t0
                    return self.launch
                if line == "" and self.proc.poll() is not None:
                    break
        self.kill()
        raise AssertionError(f"no READY line within {timeout:g} s; stderr: {self.stderr()}\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The end of the app's own log: where it stuck, when it did."""
        logs = sorted((self.data_dir / "logs").glob("*.log")) if self.data_dir else []
        if not logs:
            return "(no log)"
        return "its log ends:\n" + "\n".join(logs[0].read_text(errors="replace").splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._collect()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._collect()

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        if self.proc.stdout.closed:  # collected already
            return
        if self.proc.stderr is None:  # stderr_to
            assert self.stderr_to is not None
            self._stderr = self.stderr_to.read_text()
        else:
            self._stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        self.proc.stdout.close()

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        self._collect()
        return self._stderr


def run_cli(*args: str, input: str | None = None, timeout: float = 60, command: Sequence[str] = APP_COMMAND,
            env: Mapping[str, str | None] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A command of the app (`users ...`, `init`, a second launch) run to its end."""
    return subprocess.run([*command, *args], input=input, capture_output=True, text=True, timeout=timeout,
                          env=app_env(env), cwd=cwd)


def assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    """A CLI run that failed with one line on stderr, no traceback, naming each fragment."""
    assert result.returncode != 0
    err = result.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def assert_gradio_patches_applied(data_dir: Path) -> None:
    """The app's log says every Gradio start-up patch took (web/gradio_patches/)."""
    log = (data_dir / "logs" / "desktop-app.log").read_text()
    ready = [line for line in log.splitlines() if "Gradio patches applied" in line]
    assert ready and "not applied" not in ready[-1], ready
    assert all(name in ready[-1] for name in gradio_patches._PATCHES), ready[-1]
