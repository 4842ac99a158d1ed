"""kill -9 during writes, many times: the store always opens, passes SQLite's
integrity check, and every record is wholly old or wholly new."""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from desktop_app.store.db import Database
from tests.support import fault_writer

WRITER = Path(__file__).parent / "support" / "fault_writer.py"
KILLS = int(os.environ.get("DESKTOP_APP_TEST_KILLS", "200"))


def check_store(path: Path) -> int:
    """Open it the way the app does (raises on a bad file), then check every record."""
    Database(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT value FROM user_data").fetchall()
        for (raw,) in rows:
            value = json.loads(raw)  # a torn record would not parse ...
            assert hashlib.sha256(value["payload"].encode()).hexdigest() == value["sha"]  # ... or not match
        for (data,) in conn.execute("SELECT data FROM sessions"):
            assert set(json.loads(data)) <= {"n", "m"}
        return len(rows)
    finally:
        conn.close()


def test_kill_9_during_writes(tmp_path: Path) -> None:
    # Each writer is a real process killed with SIGKILL mid-write. They are forked
    # from a forkserver that imported the store's modules once: 200 interpreter
    # starts took ~20 s of the test's ~40 here, and taught nothing.
    path = tmp_path / "store.sqlite3"
    rng = random.Random(1234)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.support.fault_writer"])
    records = 0
    for i in range(KILLS):
        ready = ctx.Event()
        proc = ctx.Process(target=fault_writer.run_forked, args=(str(path), i, ready), daemon=True)
        proc.start()
        try:
            assert ready.wait(30), f"writer {i} never wrote (exit code {proc.exitcode})"
            time.sleep(rng.uniform(0.0, 0.15))
        finally:
            proc.kill()
            proc.join(10)
        assert proc.exitcode == -signal.SIGKILL, proc.exitcode  # killed mid-write, not ended by itself
        records = check_store(path)
    assert records > 0, "the writer never wrote: the test proves nothing"
    print(f"{KILLS} kills, 0 torn stores, {records} records at the end")


def test_the_check_sees_a_torn_record(tmp_path: Path) -> None:
    # The checker must be able to fail: a record whose payload does not match its checksum.

    path = tmp_path / "store.sqlite3"
    Database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO user_data VALUES ('u', 'k', ?, 0)",
                     (json.dumps({"n": 1, "payload": "abc", "sha": "0" * 64}),))
    conn.close()
    with pytest.raises(AssertionError):
        check_store(path)


def _timed_writer(path: str, name: str, seconds: float, done) -> None:  # type: ignore[no-untyped-def]
    """Write sessions and user values for `seconds` with no pause at all (thousands
    of transactions a second: far busier than the `users` CLI), and report how
    many. Through SQLite's own busy handler, three of these starved the app's
    writer (measured here: 8 saves in 6 s, the slowest 1.3 s); db._begin_immediate
    is what keeps a save quick."""
    from desktop_app.store.sessions import SqlSessionStore

    database = Database(Path(path))
    store = SqlSessionStore(database, idle_seconds=600, max_seconds=6000)
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        store.create(name)
        store.set_user_value(name, f"k{n}", n)
        n += 1
        done.value = n
    database.close()


def test_other_processes_writing_never_reach_a_person(live_with_user) -> None:  # type: ignore[no-untyped-def]
    """Three other processes write the app's store flat out (as the `users` CLI or
    a second tool might) while a person signs in and saves notes over HTTP: every
    request succeeds (no "database is locked" reaches anyone), each save within a
    second, and no write is lost."""
    import multiprocessing

    from tests.support.helpers import sign_in
    from tests.test_web import call_event

    store = live_with_user.settings.dirs.db_path
    ctx = multiprocessing.get_context("spawn")
    counts = [ctx.Value("i", 0) for _ in range(3)]
    writers = [ctx.Process(target=_timed_writer, args=(str(store), f"tool{i}", 6.0, counts[i])) for i in range(3)]
    saved = overlapping = 0
    slowest = 0.0
    with live_with_user.client() as client:
        assert sign_in(client, "alice").status_code == 303
        assert client.get("/gradio/").status_code == 200  # Gradio built before the race starts
        for w in writers:
            w.start()
        while any(w.is_alive() for w in writers):
            writing = all(c.value > 0 for c in counts) and all(w.is_alive() for w in writers)
            t0 = time.monotonic()
            status = call_event(client, "save_notes", [f"note {saved}"])
            slowest = max(slowest, time.monotonic() - t0)
            assert status[0].startswith("Saved"), status
            saved += 1
            overlapping += writing  # started while all three were writing
            if saved % 5 == 0:  # new sign-ins write sessions too
                with live_with_user.client() as other:
                    assert sign_in(other, "alice").status_code == 303
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    assert overlapping >= 20, f"only {overlapping} saves started while all writers wrote: the test proves little"
    assert slowest < 1.0, f"a save took {slowest:.2f} s while the other processes wrote"
    assert live_with_user.services.sessions.get_user_value("alice", "notes")["text"] == f"note {saved - 1}"
    with live_with_user.services.db.read() as conn:
        for i, count in enumerate(counts):
            name = f"tool{i}"
            assert conn.execute("SELECT COUNT(*) FROM user_data WHERE username = ?", (name,)).fetchone()[0] == count.value
            assert conn.execute("SELECT COUNT(*) FROM sessions WHERE username = ?", (name,)).fetchone()[0] == count.value
    written = 2 * sum(c.value for c in counts)
    print(f"{saved} saves over HTTP ({overlapping} while 3 other processes wrote {written} times, "
          f"slowest {slowest:.2f} s); none failed, none lost")


def fill_up(directory: Path) -> Path:
    """Write a file until the disk says ENOSPC, down to the last byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_loses_nothing_and_lets_nobody_in(small_disk: Path) -> None:
    from tests.support.helpers import PASSWORD, LiveServer, make_settings, sign_in
    from tests.test_web import event_outcome

    live = LiveServer(make_settings(small_disk / "data"))  # the store and Gradio's temp files on the small disk
    try:
        live.services.accounts.create("alice", PASSWORD)
        with live.client() as client:
            assert sign_in(client, "alice").status_code == 303
            assert client.get("/gradio/").status_code == 200
            assert event_outcome(client, "save_notes", ["kept safe"])[0] == "complete"

            filler = fill_up(small_disk)
            outcomes = [event_outcome(client, "save_notes", [f"{i} " + "x" * 90_000]) for i in range(5)]
            failed = [message for kind, message in outcomes if kind == "error"]
            assert failed, f"a full disk never refused a write: {outcomes}"
            assert all("disk" in m and "full" in m for m in failed), failed
            assert "Traceback" not in "".join(failed)
            saved_before = live.services.sessions.get_user_value("alice", "notes")["text"]
            assert saved_before == "kept safe" or saved_before.endswith("x" * 90_000)  # never half a note

            with live.client() as stranger:  # a new sign-in on a full disk: in properly, or refused clearly
                r = sign_in(stranger, "alice")
                print(f"sign-in on the full disk: {r.status_code}")
                if r.status_code != 303:
                    assert r.status_code == 503 and "full" in r.text, (r.status_code, r.text[:300])
                    assert "desktop-app-session" not in r.headers.get("set-cookie", "")
                    assert stranger.get("/gradio/", headers={"accept": "text/html"}).status_code == 303

            filler.unlink()  # space again: everything works, nothing was lost
            assert event_outcome(client, "save_notes", ["after the disk was freed"])[0] == "complete"
        assert live.services.sessions.get_user_value("alice", "notes")["text"] == "after the disk was freed"
        with live.services.db.read() as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        print(f"full disk: {len(failed)} of {len(outcomes)} large saves refused ({failed[0]}); store intact")
    finally:
        live.close()
