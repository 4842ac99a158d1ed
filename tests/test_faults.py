"""kill -9 during writes, many times: the store always opens, passes SQLite's
integrity check, and every record is wholly old or wholly new."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from desktop_app.db import Database

WRITER = Path(__file__).with_name("fault_writer.py")
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
    path = tmp_path / "store.sqlite3"
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    records = 0
    for i in range(KILLS):
        proc = subprocess.Popen([sys.executable, str(WRITER), str(path), str(i)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert proc.stdout.readline() == "writing\n", proc.stderr.read()  # type: ignore[union-attr]
            time.sleep(rng.uniform(0.0, 0.15))
        finally:
            proc.kill()
            proc.wait(10)
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
        records = check_store(path)
    assert records > 0, "the writer never wrote: the test proves nothing"
    print(f"{KILLS} kills, 0 torn stores, {records} records at the end")


def test_the_check_sees_a_torn_record(tmp_path: Path) -> None:
    # The checker must be able to fail: a record whose payload does not match its checksum.
    import pytest

    path = tmp_path / "store.sqlite3"
    Database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO user_data VALUES ('u', 'k', ?, 0)",
                     (json.dumps({"n": 1, "payload": "abc", "sha": "0" * 64}),))
    conn.close()
    with pytest.raises(AssertionError):
        check_store(path)
