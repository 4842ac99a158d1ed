"""What a session lookup costs on each store: the SQLite file (the desktop) and
PostgreSQL on loopback (a team server), through the app's own SqlSessionStore,
as the session gate calls it on every request. Also a write (a saved value)
and a sign-in's session insert. Prints p50/p99 in ms beside each other;
asserts nothing. Starts its own throwaway PostgreSQL (tests/support/postgres.py).

    .venv/bin/python bench/store_lookup.py [--runs 2000] [--sessions 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from desktop_app.store.db import Database  # noqa: E402
from desktop_app.store.pg import PgDatabase, migrate  # noqa: E402
from desktop_app.store.sessions import SqlSessionStore  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402


def percentiles(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def measure(db, runs: int, sessions: int) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    store = SqlSessionStore(db, idle_seconds=86400, max_seconds=86400 * 14)
    with db.write() as conn:
        conn.execute("INSERT INTO users VALUES ('alice', 'not a real hash', 0, 0)")
    tokens = [store.create("alice", {"kept": True})[0] for _ in range(sessions)]
    return {
        "session lookup (get)": percentiles(lambda i: store.get(tokens[i % len(tokens)]), runs),
        "saved value (set_user_value)": percentiles(lambda i: store.set_user_value("alice", f"k{i % 50}", i),
                                                    runs // 4),
        "new session (create)": percentiles(lambda i: store.create("alice"), runs // 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    sqlite = Database(folder / "bench.sqlite3")
    try:
        on_sqlite = measure(sqlite, args.runs, args.sessions)
    finally:
        sqlite.close()
    server = PostgresServer()
    try:
        url = server.new_database()
        migrate(url)
        pg = PgDatabase(url)
        try:
            on_pg = measure(pg, args.runs, args.sessions)
        finally:
            pg.close()
    finally:
        server.close()
    print(f"{args.sessions} sessions in the store; p50 / p99 in ms "
          "(PostgreSQL over its unix socket, fsync off as in the tests)")
    print(f"{'':32} {'SQLite':>16} {'PostgreSQL':>16}")
    for name, (p50, p99) in on_sqlite.items():
        q50, q99 = on_pg[name]
        print(f"{name:32} {p50:7.3f} / {p99:6.3f} {q50:7.3f} / {q99:6.3f}")


if __name__ == "__main__":
    main()
