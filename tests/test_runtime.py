"""The runtime's own small parts; its start sequence is tested through the real
app in test_cli.py (headless) and test_desktop.py (the window)."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.paths import LAST_PORT
from desktop_app.runtime import Runtime, _last_port
from desktop_app.settings import Settings
from desktop_app.store import open_store
from tests.support.helpers import PASSWORD, AppProcess, make_settings


@pytest.mark.parametrize(("text", "port"), [
    ("8080", 8080), (" 40000\n", 40000),
    # A damaged file costs a new port, never the start (the review found "²" raised).
    ("²", None), ("8080²", None), ("9" * 5000, None), ("80", None), ("", None), ("port", None), ("-1", None),
])
def test_the_last_port_file_is_read_or_ignored(tmp_path: Path, text: str, port: int | None) -> None:
    settings = Settings.build({"data_dir": str(tmp_path)}, environ={})
    (tmp_path / LAST_PORT).write_text(text)
    assert _last_port(settings) == port
    (tmp_path / LAST_PORT).unlink()
    assert _last_port(settings) is None


# -- housekeeping: expired sessions do not pile up -------------------------------
def sessions_in(data_dir: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn:
        return {row[0] for row in conn.execute("SELECT username FROM sessions")}


def seed_sessions(data_dir: Path) -> None:
    """alice's session is live; bob's has been idle past the timeout (aged in
    the file, as 20 days without a visit would leave it)."""
    store = open_store(make_settings(data_dir))
    try:
        for name in ("alice", "bob"):
            store.accounts.create(name, PASSWORD)
            store.sessions.create(name, {"kept": True})
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn, conn:
        conn.execute("UPDATE sessions SET last_seen = last_seen - 20 * 86400 WHERE username = 'bob'")
    assert sessions_in(data_dir) == {"alice", "bob"}


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_app_purges_expired_sessions_once_started(data_dir: Path) -> None:
    seed_sessions(data_dir)
    app = AppProcess(data_dir, "--session-idle", "7d")
    try:
        app.wait_ready(timeout=120)
        wait_until(lambda: sessions_in(data_dir) == {"alice"})  # bob's is gone, alice's kept
        assert app.stop(signal.SIGTERM) == 0
    finally:
        app.kill()
    log = (data_dir / "logs" / "desktop-app.log").read_text()
    assert "housekeeping: 1 expired session(s) purged" in log


def test_housekeeping_comes_back_while_the_app_runs(data_dir: Path) -> None:
    """A server that is never restarted purges too: the runtime's own loop, with
    a short period here (hourly in the app)."""
    settings = make_settings(data_dir)
    runtime = Runtime(settings, t0=time.perf_counter(), housekeeping_every=0.5)
    assert runtime.open()
    watching = None
    try:
        runtime.start(build_now=False)
        watching = threading.Thread(target=runtime.watch, kwargs={"if_server_dies": "stop"}, daemon=True)
        watching.start()
        assert runtime.store is not None
        runtime.store.accounts.create("carol", PASSWORD)
        runtime.store.sessions.create("carol", {})
        with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn, conn:
            conn.execute("UPDATE sessions SET last_seen = last_seen - 20 * 86400")  # expired while running
        wait_until(lambda: sessions_in(data_dir) == set(), timeout=10)
    finally:
        runtime.stop()
        if watching is not None:
            watching.join(10)
        runtime.close()
