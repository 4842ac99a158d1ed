"""Backups of the store (`store backup`, the daily one), putting one back
(`store restore`), and `store info`: with the real app running and writing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from desktop_app.store import backups
from desktop_app.store.db import SCHEMA_VERSION
from tests.support.helpers import PASSWORD, AppProcess, assert_one_line_error, csrf_from, launched_client, run_cli, sign_in
from tests.test_faults import WRITER
from tests.test_web import call_event


def add_user(data_dir: Path, name: str = "alice", password: str = PASSWORD) -> None:
    r = run_cli("users", "add", name, "--password-stdin", "--data-dir", str(data_dir), input=password + "\n")
    assert r.returncode == 0, r.stderr


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def whole(raw: str) -> bool:
    value = json.loads(raw)
    return hashlib.sha256(value["payload"].encode()).hexdigest() == value["sha"]


def test_a_backup_taken_while_the_app_and_another_writer_write_is_whole(data_dir: Path, tmp_path: Path) -> None:
    add_user(data_dir)
    app = AppProcess(data_dir)
    store = data_dir / "desktop-app.sqlite3"
    writer = subprocess.Popen([sys.executable, str(WRITER), str(store), "7"], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    try:
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
            assert writer.stdout is not None and writer.stdout.readline() == b"writing\n"
            for i in range(4):
                assert call_event(client, "save_notes", [f"note {i}"])[0].startswith("Saved")
                r = run_cli("store", "backup", str(tmp_path / f"copy{i}.sqlite3"), "--data-dir", str(data_dir))
                assert r.returncode == 0, r.stderr
                assert "checked" in r.stdout
        for i in range(4):
            copy = tmp_path / f"copy{i}.sqlite3"
            assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
            records = rows(copy, "SELECT value FROM user_data WHERE username LIKE 'user%'")
            assert records and all(whole(raw) for (raw,) in records)  # the writer's: each wholly old or new
            assert rows(copy, "SELECT username FROM users") == [("alice",)]
            note = rows(copy, "SELECT value FROM user_data WHERE username = 'alice' AND key = 'notes'")
            assert json.loads(note[0][0])["text"] == f"note {i}"  # what was saved before the backup is in it
            assert oct(copy.stat().st_mode & 0o777) == "0o600"
            assert not Path(f"{copy}-wal").exists() and not Path(f"{copy}.partial").exists()
    finally:
        writer.kill()
        writer.wait(10)
        assert writer.stdout is not None
        writer.stdout.close()
        app.stop()


def test_restore_waits_for_the_app_to_close_and_keeps_what_it_replaces(data_dir: Path, tmp_path: Path) -> None:
    d = ["--data-dir", str(data_dir)]
    add_user(data_dir)
    app = AppProcess(data_dir)
    try:
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
            assert call_event(client, "save_notes", ["before the backup"])[0].startswith("Saved")
            assert run_cli("store", "backup", str(tmp_path / "b.sqlite3"), *d).returncode == 0
            assert call_event(client, "save_notes", ["after the backup"])[0].startswith("Saved")
        # Not while the app runs on it.
        assert_one_line_error(run_cli("store", "restore", str(tmp_path / "b.sqlite3"), "--yes", *d), "close it first")
    finally:
        app.stop()
    r = run_cli("users", "set-password", "alice", "--password-stdin", *d, input="a newer password\n")
    assert r.returncode == 0, r.stderr
    before = (data_dir / "desktop-app.sqlite3").read_bytes()

    # Asked with no terminal to answer: refused, nothing changed. Bad files: one line each.
    assert_one_line_error(run_cli("store", "restore", str(tmp_path / "b.sqlite3"), *d), "--yes")
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database" * 50)
    assert_one_line_error(run_cli("store", "restore", str(tmp_path / "junk.sqlite3"), "--yes", *d), "not a database")
    assert_one_line_error(run_cli("store", "restore", str(tmp_path / "none.sqlite3"), "--yes", *d), "no backup file")
    newer = tmp_path / "newer.sqlite3"
    shutil.copy(tmp_path / "b.sqlite3", newer)
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    assert_one_line_error(run_cli("store", "restore", str(newer), "--yes", *d), "newer version")
    assert (data_dir / "desktop-app.sqlite3").read_bytes() == before
    assert not list(data_dir.glob("*.replaced-*"))

    r = run_cli("store", "restore", str(tmp_path / "b.sqlite3"), "--yes", *d)
    assert r.returncode == 0, r.stderr
    (replaced,) = data_dir.glob("desktop-app.sqlite3.replaced-*[0-9]")
    assert replaced.read_bytes() == before and str(replaced) in r.stdout  # set aside, not deleted
    restored = data_dir / "desktop-app.sqlite3"
    assert rows(restored, "SELECT count(*) FROM sessions") == [(0,)]  # everyone signs in again
    app = AppProcess(data_dir)
    try:
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice", "a newer password").status_code == 401  # the backup's password
            assert sign_in(client, "alice").status_code == 303
            assert call_event(client, "load_notes", [])[0]["value"] == "before the backup"
    finally:
        app.stop()


def aged_backup(folder: Path, days_ago: float, source: Path) -> Path:
    path = backups.next_backup_path(folder, time.time() - days_ago * 86400)
    shutil.copy(source, path)
    return path


def test_the_daily_backup_keeps_the_newest_and_runs_once_a_day(data_dir: Path, tmp_path: Path) -> None:
    add_user(data_dir)
    folder = data_dir / "backups"
    folder.mkdir()
    r = run_cli("store", "backup", str(tmp_path / "seed.sqlite3"), "--data-dir", str(data_dir))
    assert r.returncode == 0, r.stderr
    old = [aged_backup(folder, days, tmp_path / "seed.sqlite3") for days in (9, 8, 7, 6, 5, 4, 3.5, 3)]
    left_over = folder / (old[0].name + ".partial")  # a backup cut short by a kill, long ago
    left_over.write_bytes(b"half")
    os.utime(left_over, (time.time() - 7200,) * 2)
    (folder / "my-own-copy.sqlite3").write_bytes(b"the person's")  # not ours: never touched

    app = AppProcess(data_dir, "--keep-backups", "3")
    try:
        app.wait_ready()
        deadline = time.monotonic() + 60
        while "store backed up" not in (data_dir / "logs" / "desktop-app.log").read_text():
            assert time.monotonic() < deadline, app.log_tail()
            time.sleep(0.2)
    finally:
        app.stop()
    kept = [b.path for b in backups.list_backups(folder)]
    assert kept[:2] == old[-2:] and len(kept) == 3  # the two newest old ones, and today's
    assert rows(kept[-1], "SELECT username FROM users") == [("alice",)]
    assert oct(kept[-1].stat().st_mode & 0o777) == "0o600"
    assert not left_over.exists() and (folder / "my-own-copy.sqlite3").read_bytes() == b"the person's"

    # The next launch the same day makes none.
    app = AppProcess(data_dir, "--keep-backups", "3")
    try:
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
            assert client.get("/gradio/config").status_code == 200
        log_file = data_dir / "logs" / "desktop-app.log"
        deadline = time.monotonic() + 60  # this launch's housekeeping: its sweep, then the backup's turn
        while log_file.read_text().count("temporary file(s) removed") < 2:
            assert time.monotonic() < deadline, app.log_tail()
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        app.stop()
    assert [b.path for b in backups.list_backups(folder)] == kept
    log = (data_dir / "logs" / "desktop-app.log").read_text()
    assert log.count("store backed up") == 1, log


def test_a_damaged_store_names_the_last_backup(data_dir: Path) -> None:
    d = ["--data-dir", str(data_dir)]
    add_user(data_dir)
    assert run_cli("store", "backup", *d).returncode == 0
    (last,) = (data_dir / "backups").iterdir()
    assert oct((data_dir / "backups").stat().st_mode & 0o777) == "0o700"  # made by the app: owner-only
    (data_dir / "desktop-app.sqlite3").write_bytes(b"not a database" * 100)
    r = run_cli("--headless", *d)
    assert_one_line_error(r, "store restore", str(last), "store set-aside")
    # The command it names works as written.
    assert run_cli("store", "restore", str(last), "--yes", *d).returncode == 0
    assert run_cli("users", "list", *d).stdout.startswith("alice\t")


def test_store_info_says_what_is_kept_where(data_dir: Path) -> None:
    d = ["--data-dir", str(data_dir)]
    r = run_cli("store", "info", *d)
    assert r.returncode == 0, r.stderr
    assert "not created yet" in r.stdout and "(none yet)" in r.stdout
    assert not data_dir.exists()  # asking creates nothing
    add_user(data_dir)
    add_user(data_dir, "bob")
    app = AppProcess(data_dir)
    try:
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
            assert call_event(client, "save_notes", ["x"])[0].startswith("Saved")
            with launched_client(app.launch or "") as other:  # a second device, "keep me signed in" ticked
                page = other.get("/login")
                assert other.post("/login", data={"username": "bob", "password": PASSWORD, "remember": "1",
                                                  "csrf": csrf_from(page.text)}).status_code == 303
            deadline = time.monotonic() + 60  # the day's first backup, once the UI's build has settled
            while "store backed up" not in (data_dir / "logs" / "desktop-app.log").read_text():
                assert time.monotonic() < deadline, app.log_tail()
                time.sleep(0.2)
            r = run_cli("store", "info", *d)  # while the app runs
    finally:
        app.stop()
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(":", 1) for line in r.stdout.splitlines())
    assert lines["Accounts"].strip() == "2"
    assert lines["Sessions"].strip().startswith("2 live (1 kept signed in)")
    assert lines["Saved values"].strip() == "1"
    assert str(data_dir / "desktop-app.sqlite3") in lines["Data store"]
    assert str(data_dir / "cache" / "gradio") in lines["Temporary files"] and "7d" in lines["Temporary files"]
    (daily,) = (data_dir / "backups").iterdir()  # the app's first of the day
    assert lines["Backups"].strip().startswith(f"{data_dir / 'backups'} (1,") and daily.name in lines["Backups"]
    assert run_cli("store", "backup", *d).returncode == 0
    r = run_cli("store", "info", *d)
    assert f"{data_dir / 'backups'} (2," in r.stdout
    assert sorted(p.name for p in data_dir.iterdir()) == ["backups", "cache", "desktop-app.sqlite3", "instance.lock",
                                                           "logs"]  # no -wal or -shm left by asking


def test_backup_names_and_pruning(tmp_path: Path) -> None:
    now = time.mktime((2026, 12, 3, 9, 30, 0, 0, 0, -1))
    first = backups.next_backup_path(tmp_path, now)
    assert first.name == "desktop-app-20261203-093000.sqlite3"
    first.write_bytes(b"")
    second = backups.next_backup_path(tmp_path, now)  # the same second: a new name, not the same file
    assert second.name == "desktop-app-20261203-093000-2.sqlite3"
    assert not backups.due(tmp_path, now + 3600)
    assert backups.due(tmp_path, now + 86400)
    assert backups.due(tmp_path, now - 3600)  # the clock was put back: due, not never again
    second.write_bytes(b"")
    assert [b.path for b in backups.list_backups(tmp_path)] == [first, second]
    assert backups.prune(tmp_path, 1, now=now) == [first] and not first.exists() and second.exists()


def test_a_backup_never_writes_through_what_it_finds_in_its_way(data_dir: Path, tmp_path: Path) -> None:
    # Found by an attack pass: each of these once emptied the store, or wrote a
    # "backup" that SQLite deleted at the next start.
    d = ["--data-dir", str(data_dir)]
    add_user(data_dir)
    store = data_dir / "desktop-app.sqlite3"
    before = store.read_bytes()
    (tmp_path / "b.sqlite3.partial").symlink_to(store)  # a leftover name that points at the store
    r = run_cli("store", "backup", str(tmp_path / "b.sqlite3"), *d)
    assert r.returncode == 0, r.stderr
    assert store.read_bytes() == before and rows(tmp_path / "b.sqlite3", "SELECT username FROM users") == [("alice",)]
    assert not (tmp_path / "b.sqlite3.partial").exists()  # the link went, not what it named
    for name in ("desktop-app.sqlite3-wal", "desktop-app.sqlite3-journal", "elsewhere.sqlite3"):
        assert_one_line_error(run_cli("store", "backup", str(data_dir / name), *d), "data directory itself")
        assert not (data_dir / name).exists()
    assert_one_line_error(run_cli("store", "backup", "", *d), "PATH is empty")
    assert_one_line_error(run_cli("store", "restore", str(store), "--yes", *d), "the data store itself")
    # A copy with a -wal beside it is not whole: read as immutable, what the -wal holds would be lost.
    shutil.copy(tmp_path / "b.sqlite3", tmp_path / "c.sqlite3")
    (tmp_path / "c.sqlite3-wal").write_bytes(b"commits not yet in the file")
    assert_one_line_error(run_cli("store", "restore", str(tmp_path / "c.sqlite3"), "--yes", *d), "-wal")
    assert store.read_bytes() == before


def test_a_store_that_will_not_move_keeps_its_journal_beside_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.store import db

    store = tmp_path / "desktop-app.sqlite3"
    store.write_bytes(b"the store")
    (tmp_path / "desktop-app.sqlite3-wal").write_bytes(b"its last commits")
    real_replace = os.replace

    def refuse_the_store(src, dst):  # type: ignore[no-untyped-def]  # as a Windows file held open, or chattr +i
        if Path(src) == store:
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(db.os, "replace", refuse_the_store)
    try:
        db.set_aside(store)
    except PermissionError:
        pass
    else:
        raise AssertionError("set_aside moved a store that would not move")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desktop-app.sqlite3", "desktop-app.sqlite3-wal"]
    assert (tmp_path / "desktop-app.sqlite3-wal").read_bytes() == b"its last commits"


def test_a_backup_dated_in_the_future_is_left_out(tmp_path: Path) -> None:
    now = time.time()
    future = backups.next_backup_path(tmp_path, now + 3 * 365 * 86400)
    future.write_bytes(b"")
    real = backups.next_backup_path(tmp_path, now - 2 * 86400)
    real.write_bytes(b"")
    assert [b.path for b in backups.list_backups(tmp_path, now=now)] == [real]
    assert backups.due(tmp_path, now)  # the real newest is two days old
    assert backups.prune(tmp_path, 1, now=now) == [] and future.exists() and real.exists()


def test_the_screen_offers_the_newest_backup_that_works(data_dir: Path) -> None:
    add_user(data_dir)
    assert run_cli("store", "backup", "--data-dir", str(data_dir)).returncode == 0
    (good,) = (data_dir / "backups").iterdir()
    damaged = backups.next_backup_path(data_dir / "backups", time.time() + 30)
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)  # newest, but not a database any more
    assert backups.list_backups(data_dir / "backups")[-1].path == damaged  # the newest by name
    usable = backups.latest_usable_backup(data_dir / "backups")
    assert usable is not None and usable.path == good
