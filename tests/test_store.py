"""The store: sessions, expiry, revocation, per-user data (each on SQLite and
on PostgreSQL), concurrency, and refusing (never overwriting) SQLite files it
cannot read."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
from pathlib import Path

import pytest

from desktop_app.errors import StoreError, UserError
from desktop_app.paths import ensure_private_dir
from desktop_app.store.db import SCHEMA_VERSION, Database
from desktop_app.store.sessions import SqlSessionStore, hash_token


class Clock:
    """A clock the test moves by hand; the store under it is the real one."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def add_account(db: Database, name: str) -> None:
    """The users row a session needs to be valid (the accounts side is test_auth's);
    made at time 0, so it is older than any session a test's clock makes."""
    with db.write() as conn:
        conn.execute("INSERT INTO users VALUES (?, 'not a real hash', 0, 0)", (name,))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        database = Database(ensure_private_dir(tmp_path / "data", what="d", flag="x") / "s.sqlite3")
    else:
        from desktop_app.store.pg import PgDatabase

        database = PgDatabase(request.getfixturevalue("pg_url"))
    yield database
    database.close()  # closing twice is harmless


def test_session_roundtrip_and_only_hash_stored(db: Database) -> None:
    store = SqlSessionStore(db, idle_seconds=60, max_seconds=3600)
    add_account(db, "alice")
    token, session = store.create("alice", {"theme": "dark"})
    assert len(token) >= 43  # 32 random bytes, base64url
    got = store.get(token)
    assert got is not None and got.username == "alice" and got.data == {"theme": "dark"}
    assert store.get(token + "x") is None
    assert store.get("") is None
    assert session.id_hash == hash_token(token)
    with db.read() as conn:
        stored = [str(v) for row in conn.execute("SELECT * FROM sessions").fetchall() for v in row]
    assert hash_token(token) in stored and not any(token in v for v in stored)
    if db.dialect == "sqlite":
        db.close()  # folds the WAL into the file, so the file holds everything stored
        raw = db.path.read_bytes()
        assert hash_token(token).encode() in raw
        assert token.encode() not in raw


def test_idle_and_absolute_timeouts(db: Database) -> None:
    clock = Clock()
    store = SqlSessionStore(db, idle_seconds=60, max_seconds=300, clock=clock)
    add_account(db, "alice")
    token, _ = store.create("alice")
    clock.now += 59
    assert store.get(token) is not None
    clock.now += 2  # 61 s idle
    assert store.get(token) is None

    token, _ = store.create("alice")
    for _ in range(6):  # used every 50 s: never idle, but 300 s after login it ends
        clock.now += 50
        if store.get(token):
            store.touch(token)
    assert store.get(token) is None
    assert store.purge_expired() == 2
    assert store.purge_expired() == 0


def test_a_kept_session_is_seen_only_while_it_lives(db: Database) -> None:
    """What the desktop asks at launch to start Gradio's build at once."""
    clock = Clock()
    store = SqlSessionStore(db, idle_seconds=60, max_seconds=300, clock=clock)
    add_account(db, "alice")
    plain, _ = store.create("alice")  # "Keep me signed in" not ticked
    assert not store.any_kept()
    kept, _ = store.create("alice", {"kept": True})
    assert store.any_kept()
    store.delete(kept)  # logged out
    assert not store.any_kept()
    store.create("alice", {"kept": True})
    clock.now += 61  # idle too long: ended
    assert not store.any_kept()
    kept, _ = store.create("alice", {"kept": True})
    with db.write() as conn:  # the account is gone (users delete from another process)
        conn.execute("DELETE FROM users WHERE username = 'alice'")
    assert not store.any_kept()


def test_revocation(db: Database) -> None:
    store = SqlSessionStore(db, idle_seconds=600, max_seconds=6000)
    add_account(db, "alice")
    add_account(db, "bob")
    a1, _ = store.create("alice")
    a2, _ = store.create("alice")
    b1, _ = store.create("bob")
    assert store.delete(a1) is True
    assert store.delete(a1) is False
    assert store.get(a1) is None and store.get(a2) is not None
    a3, _ = store.create("alice")
    assert store.delete_user("alice", keep_token=a3) == 1
    assert store.get(a2) is None and store.get(a3) is not None and store.get(b1) is not None
    listed = store.list_user("alice")
    assert [s.id_hash for s in listed] == [hash_token(a3)]
    assert store.delete_by_hash(listed[0].id_hash, "bob") is False  # not bob's to revoke
    assert store.delete_by_hash(listed[0].id_hash, "alice") is True
    assert store.get(a3) is None


def test_session_data_and_user_values_are_json(db: Database) -> None:
    store = SqlSessionStore(db, idle_seconds=600, max_seconds=6000)
    add_account(db, "alice")
    token, _ = store.create("alice")
    store.update_data(token, {"a": 1})
    store.update_data(token, {"b": [1, 2]})
    assert store.get(token).data == {"a": 1, "b": [1, 2]}  # type: ignore[union-attr]
    store.set_user_value("alice", "notes", {"text": "héllo"})
    assert store.get_user_value("alice", "notes") == {"text": "héllo"}
    assert store.get_user_value("bob", "notes", "none") == "none"
    with pytest.raises(TypeError):
        store.set_user_value("alice", "notes", object())
    assert store.get_user_value("alice", "notes") == {"text": "héllo"}  # the failed write changed nothing
    assert store.delete_user_values("alice") == 1


def test_sessions_and_writes_need_the_account(db: Database) -> None:
    store = SqlSessionStore(db, idle_seconds=600, max_seconds=6000)
    add_account(db, "alice")
    token, _ = store.create("alice")
    orphan, _ = store.create("gone")  # no such account: never valid, and purged
    assert store.get(token) is not None and store.get(orphan) is None
    assert store.purge_expired() == 1
    store.set_user_value("alice", "notes", "mine", token=token)
    with pytest.raises(UserError, match="^Your session has ended; sign in again.$"):
        store.set_user_value("bob", "notes", "not through alice's session", token=token)
    store.delete(token)
    with pytest.raises(UserError, match="^Your session has ended; sign in again.$"):
        store.set_user_value("alice", "notes", "after logout", token=token)
    assert store.get_user_value("alice", "notes") == "mine"
    assert store.get_user_value("bob", "notes") is None


def test_files_are_owner_only(tmp_path: Path) -> None:
    data = ensure_private_dir(tmp_path / "data", what="d", flag="x")
    database = Database(data / "s.sqlite3")
    SqlSessionStore(database, idle_seconds=60, max_seconds=60).create("alice")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for f in data.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    database.close()


def test_not_a_database_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    junk = b"these are my precious notes, not a database\n" * 200
    path.write_bytes(junk)
    with pytest.raises(StoreError) as info:
        Database(path)
    message = str(info.value)
    assert str(path) in message and "untouched" in message and "\n" not in message
    assert path.read_bytes() == junk


def test_truncated_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    database = Database(path)
    store = SqlSessionStore(database, idle_seconds=60, max_seconds=60)
    for i in range(200):
        store.set_user_value(f"user{i}", "notes", "x" * 500)
    database.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = path.read_bytes()
    with pytest.raises(StoreError):
        Database(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer version"):
        Database(path)


def _writer(path: str, name: str, count: int) -> None:
    database = Database(Path(path))
    store = SqlSessionStore(database, idle_seconds=600, max_seconds=6000)
    for i in range(count):
        store.create(name)
        store.set_user_value(name, f"k{i}", i)
    database.close()


def test_two_processes_write_at_once_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Database(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), name, 150)) for name in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    database = Database(path)
    with database.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 300
        assert conn.execute("SELECT COUNT(*) FROM user_data").fetchone()[0] == 300
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    database.close()


def test_touch_is_skipped_while_another_writer_holds_the_lock(db: Database, request: pytest.FixtureRequest) -> None:
    """Bookkeeping: it never waits (on PostgreSQL a stuck writer elsewhere made
    every request's touch hold a pool connection until none was left)."""
    import threading
    import time

    clock = Clock()
    store = SqlSessionStore(db, idle_seconds=600, max_seconds=6000, clock=clock)
    add_account(db, "alice")
    token, _ = store.create("alice")
    clock.now += 120
    started, release = threading.Event(), threading.Event()
    pg_url = request.getfixturevalue("pg_url") if db.dialect == "postgresql" else ""  # the db fixture's own

    def hold_the_lock() -> None:  # another process's long write, here another connection
        other = type(db)(db.path) if db.dialect == "sqlite" else None
        if other is None:
            import psycopg

            from desktop_app.store.pg import WRITE_LOCK

            conn = psycopg.connect(pg_url)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            started.set()
            release.wait(10)
            conn.rollback()
            conn.close()
        else:
            with other.write():
                started.set()
                release.wait(10)
            other.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert started.wait(10)
        t0 = time.monotonic()
        store.touch(token)  # skipped, at once
        assert time.monotonic() - t0 < 1.5
    finally:
        release.set()
        holder.join(10)
    got = store.get(token)
    assert got is not None and got.last_seen == 1_000_000.0  # not moved: skipped
    store.touch(token)  # nobody else writing: done
    got = store.get(token)
    assert got is not None and got.last_seen == clock.now
