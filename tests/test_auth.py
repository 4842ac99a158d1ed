"""Accounts: hashing, the same answer for unknown users and wrong passwords,
rehash on parameter change, the length cap, and throttling per account."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from desktop_app.errors import UserError
from desktop_app.store.accounts import MAX_PASSWORD_BYTES, Accounts, LoginStatus
from desktop_app.store.db import Database
from desktop_app.store.sessions import SqlSessionStore
from desktop_app.store.throttle import lock_seconds
from tests.support.helpers import PASSWORD, TEST_HASHER
from tests.test_store import Clock

FAST = TEST_HASHER


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):
    """The store's database: the SQLite file, and a team server's PostgreSQL."""
    if request.param == "sqlite":
        database = Database(tmp_path / "s.sqlite3")
    else:
        from desktop_app.store.pg import PgDatabase

        database = PgDatabase(request.getfixturevalue("pg_url"))
    yield database
    database.close()


def make_accounts(db: Database, hasher: PasswordHasher | None = None, clock=time.time) -> Accounts:
    sessions = SqlSessionStore(db, idle_seconds=600, max_seconds=6000, clock=clock)
    return Accounts(db, sessions, hasher=hasher, clock=clock)


def stored_hash(db: Database, name: str) -> str:
    with db.read() as conn:
        return conn.execute("SELECT pw_hash FROM users WHERE username = ?", (name,)).fetchone()[0]


def test_default_hash_is_argon2id_memory_hard(db: Database) -> None:
    accounts = make_accounts(db)
    accounts.create("alice", PASSWORD)
    h = stored_hash(db, "alice")
    assert h.startswith("$argon2id$") and "m=65536" in h and PASSWORD not in h


def test_wrong_password_and_unknown_user_look_the_same(db: Database) -> None:
    accounts = make_accounts(db)
    accounts.create("alice", PASSWORD)
    assert accounts.authenticate("alice", PASSWORD).status is LoginStatus.OK
    assert accounts.authenticate("ALICE ", PASSWORD).username == "alice"  # names are case-insensitive
    wrong = accounts.authenticate("alice", "not the password")
    unknown = accounts.authenticate("mallory", PASSWORD)
    assert wrong == unknown
    assert wrong.status is LoginStatus.INVALID

    # Similar time: the unknown user still costs one full hash verification.
    def timed(name: str) -> float:
        t0 = time.perf_counter()
        accounts.authenticate(name, "not the password")
        return time.perf_counter() - t0

    accounts.authenticate("warmup-unknown", "x" * 10)  # builds the dummy hash once
    known = min(timed("alice") for _ in range(3))
    ghost = min(timed(f"ghost{i}") for i in range(3))
    assert ghost > known * 0.5 and known > ghost * 0.5, (known, ghost)


def test_rehash_when_parameters_change(db: Database) -> None:
    make_accounts(db, FAST).create("alice", PASSWORD)
    old = stored_hash(db, "alice")
    assert "m=8192" in old
    stronger = make_accounts(db)  # default, stronger parameters
    assert stronger.authenticate("alice", "wrong password").status is LoginStatus.INVALID
    assert stored_hash(db, "alice") == old  # a failed login changes nothing
    assert stronger.authenticate("alice", PASSWORD).status is LoginStatus.OK
    new = stored_hash(db, "alice")
    assert new != old and "m=65536" in new
    assert stronger.authenticate("alice", PASSWORD).status is LoginStatus.OK


def test_password_length_limits(db: Database) -> None:
    accounts = make_accounts(db, FAST)
    with pytest.raises(UserError, match="too long"):
        accounts.create("alice", "x" * (MAX_PASSWORD_BYTES + 1))
    with pytest.raises(UserError, match="too short"):
        accounts.create("alice", "short")
    assert accounts.count() == 0
    longest = "é" * (MAX_PASSWORD_BYTES // 2)  # 2 bytes each: exactly at the cap
    accounts.create("alice", longest)
    assert accounts.authenticate("alice", longest).status is LoginStatus.OK
    # Over the cap at login: refused like any wrong password, never hashed as given.
    assert accounts.authenticate("alice", longest + "x").status is LoginStatus.INVALID


def test_usernames_are_validated(db: Database) -> None:
    accounts = make_accounts(db, FAST)
    for bad in ("", " ", "a b", "-dash", "x" * 65, "<script>", "ünï"):
        with pytest.raises(UserError):
            accounts.create(bad, PASSWORD)
    accounts.create("Bob.Smith@home", PASSWORD)
    with pytest.raises(UserError, match="already exists"):
        accounts.create("bob.smith@HOME", PASSWORD)
    with pytest.raises(UserError, match="already exists"):
        accounts.create("carol", PASSWORD, only_if_first=True)


def test_throttling_per_account(db: Database) -> None:
    clock = Clock()
    accounts = make_accounts(db, FAST, clock)
    accounts.create("alice", PASSWORD)
    for _ in range(4):
        assert accounts.authenticate("alice", "bad").status is LoginStatus.INVALID
    assert accounts.authenticate("alice", "bad").status is LoginStatus.INVALID  # 5th: now locked 1 s
    locked = accounts.authenticate("alice", PASSWORD)
    assert locked.status is LoginStatus.THROTTLED and locked.retry_after == 1
    # Another account is not affected, and an unknown name is throttled the same way.
    accounts.create("bob", PASSWORD)
    assert accounts.authenticate("bob", PASSWORD).status is LoginStatus.OK
    for _ in range(5):
        accounts.authenticate("ghost", "bad")
    assert accounts.authenticate("ghost", "bad").status is LoginStatus.THROTTLED

    clock.now += 1.5
    assert accounts.authenticate("alice", "bad").status is LoginStatus.INVALID  # 6th: 2 s
    assert accounts.authenticate("alice", PASSWORD).retry_after == 2
    clock.now += 2.5
    assert accounts.authenticate("alice", PASSWORD).status is LoginStatus.OK  # success resets
    assert accounts.authenticate("alice", "bad").status is LoginStatus.INVALID
    assert accounts.authenticate("alice", PASSWORD).status is LoginStatus.OK
    assert [lock_seconds(n) for n in (1, 4, 5, 6, 7, 100)] == [0, 0, 1, 2, 4, 900]


def test_password_change_and_delete_end_sessions(db: Database) -> None:
    accounts = make_accounts(db, FAST)
    accounts.create("alice", PASSWORD)
    keep, _ = accounts.sessions.create("alice")
    other, _ = accounts.sessions.create("alice")
    assert accounts.set_password("alice", "a new password", keep_token=keep) == 1
    assert accounts.sessions.get(other) is None and accounts.sessions.get(keep) is not None
    assert accounts.authenticate("alice", PASSWORD).status is LoginStatus.INVALID
    assert accounts.authenticate("alice", "a new password").status is LoginStatus.OK
    accounts.sessions.set_user_value("alice", "notes", "secret")
    accounts.delete("alice")
    assert accounts.sessions.get(keep) is None
    assert accounts.sessions.get_user_value("alice", "notes") is None
    with pytest.raises(UserError, match="No account"):
        accounts.delete("alice")
