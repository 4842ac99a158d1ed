"""Who was given which of Gradio's temp files (desktop_app/files.py), on a real
store in a temp dir, and a store written before that table existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.store.db import SCHEMA_VERSION, Database
from desktop_app.store.files import SHARED, FileOwners


def owners_in(tmp_path: Path) -> tuple[FileOwners, Path]:
    folder = tmp_path / "cache" / "gradio"
    folder.mkdir(parents=True)
    return FileOwners(Database(tmp_path / "store.sqlite3"), folder), folder


def test_a_claim_is_for_one_account_and_shared_files_for_all(tmp_path: Path) -> None:
    owners, folder = owners_in(tmp_path)
    mine, ui_file = str(folder / "a1" / "notes.txt"), str(folder / "b2" / "logo.png")
    assert owners.claim("alice", [mine, mine]) == 1
    assert owners.claim("alice", [mine]) == 0  # already hers
    owners.claim(SHARED, [ui_file])
    assert owners.allowed("alice", mine) and not owners.allowed("bob", mine)
    assert owners.allowed("alice", ui_file) and owners.allowed("bob", ui_file)
    # Other spellings of the same file are the same claim.
    assert owners.allowed("alice", str(folder / "x" / ".." / "a1" / "notes.txt"))
    # Nothing outside Gradio's folder is ever claimed.
    assert owners.claim("alice", ["/etc/passwd", str(tmp_path / "store.sqlite3")]) == 0


def test_forgetting_an_account_deletes_only_the_files_nobody_else_holds(tmp_path: Path) -> None:
    owners, folder = owners_in(tmp_path)
    files = {name: folder / name / "f.txt" for name in ("hers", "both", "ui")}
    for path in files.values():
        path.parent.mkdir()
        path.write_text(path.parent.name)
    owners.claim("alice", [str(p) for p in files.values()])
    owners.claim("bob", [str(files["both"])])
    owners.claim(SHARED, [str(files["ui"])])
    with owners.db.write() as conn:
        orphans = owners.forget_user(conn, "alice")
    assert orphans == [str(files["hers"])]
    assert owners.remove(orphans + ["/etc/passwd", str(tmp_path / "store.sqlite3")]) == 1
    assert not files["hers"].exists() and not files["hers"].parent.exists()
    assert files["both"].exists() and files["ui"].exists() and (tmp_path / "store.sqlite3").exists()
    assert not owners.allowed("alice", str(files["both"])) and owners.allowed("bob", str(files["both"]))
    assert Path("/etc/passwd").exists()


def test_a_store_from_before_file_claims_opens_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)  # as version 1 left it: no user_files table
    conn.execute("DROP TABLE user_files")
    conn.execute("INSERT INTO users VALUES ('alice', 'hash', 1, 1)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    db = Database(path)
    with db.read() as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert c.execute("SELECT username FROM users").fetchall() == [("alice",)]
    folder = tmp_path / "gradio"
    assert FileOwners(db, folder).claim("alice", [str(folder / "x")]) == 1
    db.close()


def test_a_claim_for_a_session_that_ended_is_refused_and_its_file_goes(tmp_path: Path) -> None:
    owners, folder = owners_in(tmp_path)
    made = folder / "e1" / "late-export.txt"
    made.parent.mkdir()
    made.write_text("made after the account was deleted")
    with owners.db.write() as conn:
        conn.execute("INSERT INTO users VALUES ('dave', 'h', 1, 1)")
        conn.execute("INSERT INTO sessions (id_hash, username, created_at, last_seen) VALUES ('live', 'dave', 2, 2)")
    assert owners.claim("dave", [str(made)], session_id="ended") is None
    assert not made.exists() and not owners.allowed("dave", str(made))
    made.parent.mkdir()
    made.write_text("again")
    assert owners.claim("dave", [str(made)], session_id="live") == 1
    assert owners.allowed("dave", str(made))
