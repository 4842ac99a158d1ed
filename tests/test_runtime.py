"""The runtime's own small parts; its start sequence is tested through the real
app in test_cli.py (headless) and test_desktop.py (the window)."""

from __future__ import annotations

import contextlib
import hashlib
import os
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
from desktop_app.store.files import SHARED
from tests.support.helpers import PASSWORD, AppProcess, make_settings
from tests.test_files_store import owners_in


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
    """Once the UI is built (a slow one here): the housekeeping never runs beside
    Gradio's build and the first page after it, the every-day launch's path."""
    seed_sessions(data_dir)
    app = AppProcess(data_dir, "--session-idle", "7d", "--ui", "tests.apps.slow_ui:build")
    try:
        app.wait_ready(timeout=120)
        wait_until(lambda: sessions_in(data_dir) == {"alice"})  # bob's is gone, alice's kept
        assert app.stop(signal.SIGTERM) == 0
    finally:
        app.kill()
    log = (data_dir / "logs" / "desktop-app.log").read_text()
    assert "housekeeping: 1 expired session(s) purged" in log
    assert "Gradio UI ready" in log, log  # housekeeping at once would have been done before the build
    assert log.index("Gradio UI ready") < log.index("housekeeping:"), log


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


def test_a_build_that_never_ends_does_not_stop_the_purge(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The housekeeping waits for the build, but not for ever (2 minutes in the
    app, 1 s here): a UI stuck in its build still has its expired sessions go."""
    from desktop_app import runtime as runtime_module
    from tests.apps import blocked_ui

    monkeypatch.setattr(runtime_module, "HOLD_AT_MOST_SECONDS", 1.0)
    runtime = Runtime(make_settings(data_dir, ui="tests.apps.blocked_ui:build"), t0=time.perf_counter())
    assert runtime.open()
    watching = None
    try:
        runtime.start(build_now=True)
        assert runtime.store is not None and runtime.loader is not None
        runtime.store.accounts.create("dave", PASSWORD)
        runtime.store.sessions.create("dave", {})
        with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn, conn:
            conn.execute("UPDATE sessions SET last_seen = last_seen - 20 * 86400")
        watching = threading.Thread(target=runtime.watch, kwargs={"if_server_dies": "stop"}, daemon=True)
        watching.start()
        wait_until(lambda: sessions_in(data_dir) == set(), timeout=60)
        assert not runtime.loader.done  # purged while the build was still stuck
    finally:
        blocked_ui.RELEASE.set()
        runtime.stop()
        if watching is not None:
            watching.join(10)
        runtime.close()


# -- housekeeping: Gradio's temp files do not pile up ------------------------------
DAY = 86400


def test_old_temp_files_go_unless_an_open_session_may_show_them(data_dir: Path) -> None:
    """Files aged with utime (and their folders), then the real app started:
    what nobody was given for --temp-max-age goes, unless it is the UI's own or
    a live session that began before it was last given out may still be showing
    it; nothing but Gradio's own cache layout is touched."""
    store = open_store(make_settings(data_dir))
    folder = data_dir / "cache" / "gradio"
    now = time.time()
    files: dict[str, tuple[str | None, float]] = {  # name: (who was given it, its age in days)
        "ended": ("bob", 8),          # given in a session that has ended
        "before": ("alice", 12),      # given before alice's live session began (10 days ago)
        "nobody": (None, 8),          # held by no one
        "showing": ("alice", 8),      # given during alice's live session: her page may show it
        "young": ("bob", 1),          # given yesterday
        "ui": (SHARED, 30),           # part of the UI itself
    }

    def gradio_path(name: str) -> Path:  # as Gradio caches a file: a folder named by its content's hash
        return folder / hashlib.sha256(name.encode()).hexdigest() / f"{name}.txt"

    not_gradios = [folder / "notes" / "old.txt", folder / "old.txt"]  # a folder someone pointed --cache-dir at
    try:
        for name in ("alice", "bob"):
            store.accounts.create(name, PASSWORD)
        store.sessions.create("alice", {"kept": True})
        store.sessions.create("bob", {})
        for name, (holder, _age) in files.items():
            path = gradio_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(name)
            if holder is not None:
                assert store.files.claim(holder, [str(path)]) == 1
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn, conn:
        conn.execute("UPDATE users SET created_at = created_at - 30 * 86400")
        conn.execute("UPDATE sessions SET created_at = ? WHERE username = 'alice'", (now - 10 * DAY,))
        conn.execute("UPDATE sessions SET last_seen = last_seen - 2 * 86400 WHERE username = 'bob'")  # ended
    for path in not_gradios:
        path.parent.mkdir(exist_ok=True)
        path.write_text("not Gradio's")
        os.utime(path, (now - 30 * DAY,) * 2)
    for name, (_holder, age) in files.items():
        for aged in (gradio_path(name), gradio_path(name).parent):
            os.utime(aged, (now - age * DAY,) * 2)

    app = AppProcess(data_dir, "--temp-max-age", "7d")
    try:
        app.wait_ready(timeout=120)
        log = data_dir / "logs" / "desktop-app.log"
        wait_until(lambda: "temporary file(s) removed" in log.read_text())
        assert app.stop(signal.SIGTERM) == 0
    finally:
        app.kill()
    left = {p.stem for p in folder.rglob("*.txt") if p.parent.name != "notes" and p.parent != folder}
    assert left == {"showing", "young", "ui"}, left
    assert all(path.is_file() for path in not_gradios)
    assert not gradio_path("ended").parent.exists()  # its folder went with it
    assert "3 temporary file(s) removed" in log.read_text()
    with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn:
        claimed = {Path(row[0]).stem for row in conn.execute("SELECT path FROM user_files")}
    assert claimed == {"showing", "young", "ui"}  # the claims of removed files went too


def month_old_cached_file(folder: Path) -> Path:
    """A file as Gradio caches it (a folder named by its content's hash), 30 days old."""
    path = folder / ("ab" * 32) / "notes.txt"
    path.parent.mkdir()
    path.write_text("x")
    for aged in (path, path.parent):
        os.utime(aged, (time.time() - 30 * DAY,) * 2)
    return path


def test_a_claim_made_while_the_folder_is_walked_keeps_its_file(tmp_path: Path) -> None:
    # Found by the review: the age was read before the transaction, so a claim
    # between the walk and the choice was deleted with the file kept.
    owners, folder = owners_in(tmp_path)
    path = month_old_cached_file(folder)
    older_than = time.time() - 7 * DAY
    found = owners.old_files(older_than)
    assert found == [str(path)]
    owners.claim("alice", [str(path)])  # given out again, just now
    assert owners.choose_stale(found, older_than=older_than, live=(0.0, 0.0)) == []
    assert owners.allowed("alice", str(path)) and path.exists()


def test_a_file_given_out_again_is_young_again(tmp_path: Path) -> None:
    # The file's time is when it was last given out: a claim touches it.
    owners, folder = owners_in(tmp_path)
    path = month_old_cached_file(folder)
    assert owners.old_files(time.time() - 7 * DAY) == [str(path)]
    owners.claim("alice", [str(path)])
    assert owners.old_files(time.time() - 7 * DAY) == []
