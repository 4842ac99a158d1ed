"""The store on PostgreSQL, for a team server: several instances of the app
share its accounts, sessions, per-user values, file claims and throttling.

`PgDatabase` offers what the SQLite `Database` offers (`write`, `read`,
`close`), so accounts.py, sessions.py, files.py and throttle.py are the same
code on both: their guarantees come from doing each change in one transaction,
and here every write transaction first takes one advisory lock
(`pg_advisory_xact_lock`), so writes from all instances are serialized exactly
as SQLite serializes them (a sign-in checked against the password hash its
session is written beside, a password change that ends every session at once).
Reads take no lock. A store for ten colleagues writes a few times a second; one
lock costs nothing there and keeps the reasoning the same as on the desktop.

The schema is SQLite's (db.py), with DOUBLE PRECISION for times (PostgreSQL's
REAL has 24 bits: it would round a timestamp to about two minutes), versioned
in the table `desktop_app_schema`; `migrate` creates or upgrades it and
refuses a newer one. psycopg and its pool are imported only here, and only
when a postgresql:// store is opened.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from desktop_app.errors import StoreError
from desktop_app.store.db import SCHEMA_SQL, SCHEMA_VERSION

WRITE_LOCK = 0x6465736B  # "desk": the one advisory lock all write transactions take
_SCHEMA_TABLE = "desktop_app_schema"
CONNECT_TIMEOUT_SECONDS = 5
# How long a request waits for a connection from the pool before its 503: the
# database gone, the person hears so in two seconds rather than ten.
POOL_WAIT_SECONDS = 2


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)


def _schema() -> list[str]:
    ddl = SCHEMA_SQL.replace(" REAL ", " DOUBLE PRECISION ")
    return [statement.strip() for statement in ddl.split(";") if statement.strip()]


class _Connection:
    """A psycopg connection that takes the store modules' SQL as written for
    SQLite: `?` placeholders (their SQL has no literal `%` or `?`)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @staticmethod
    def _sql(sql: str) -> str:
        assert "%" not in sql, sql  # would need escaping for psycopg
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(sql), tuple(params) or None)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        cur = self._conn.cursor()
        cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        return cur


class PgDatabase:
    dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        psycopg, ConnectionPool = _psycopg()

        self.path = redact(url)  # what messages name
        self._errors = psycopg.Error
        # The pool retries a failed connection quietly until its timeout; one
        # connection first says at once, and in PostgreSQL's words, what is wrong.
        # Its own retries go to our log, not to stderr (logging's last resort).
        logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
        try:
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
            # check: a connection the database dropped (a restart) is found out
            # and replaced before use, so the app recovers by itself; timeout: a
            # request waits that long for a connection, then gets its 503.
            self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False,
                                        timeout=POOL_WAIT_SECONDS, check=ConnectionPool.check_connection,
                                        kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS + 1)
        except Exception as exc:
            raise StoreError(f"Cannot reach the database {self.path}: {_first_line(exc)}. "
                             "Check that PostgreSQL is running and the URL is right.") from None
        try:
            self._check_schema()
        except BaseException:
            self._pool.close()
            raise

    def _check_schema(self) -> None:
        with self.read() as conn:
            found = conn.execute("SELECT to_regclass(?)", (_SCHEMA_TABLE,)).fetchone()[0]
            version = conn.execute(f"SELECT max(version) FROM {_SCHEMA_TABLE}").fetchone()[0] if found else None
        if version is None:
            raise StoreError(f"The database {self.path} has no store yet; "
                             f"create it with: store init --store URL.")
        if version > SCHEMA_VERSION:
            raise StoreError(f"The database {self.path} holds a store of a newer version of the app "
                             f"(schema {version}, this version knows {SCHEMA_VERSION}); install that version.")
        if version < SCHEMA_VERSION:
            raise StoreError(f"The database {self.path} holds an older store (schema {version}); "
                             f"upgrade it with: store init --store URL.")

    @contextlib.contextmanager
    def write(self) -> Iterator[_Connection]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                yield _Connection(conn)
        except self._errors as exc:
            raise self._error(exc) from None

    @contextlib.contextmanager
    def read(self) -> Iterator[_Connection]:
        try:
            with self._pool.connection() as conn:
                yield _Connection(conn)
        except self._errors as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> StoreError:
        return StoreError(f"The database {self.path} failed: {_first_line(exc)}.",
                          public="The app's data cannot be reached just now. Try again in a moment.")

    def close(self) -> None:
        self._pool.close()


def migrate(url: str) -> tuple[int | None, int]:
    """Create or upgrade the store's tables in the database at `url`; returns
    (the version found, None for none; the version now). A newer one is refused."""
    psycopg, _ = _psycopg()
    where = redact(url)
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {_SCHEMA_TABLE} "
                         "(version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            row = conn.execute(f"SELECT max(version) FROM {_SCHEMA_TABLE}").fetchone()
            found = row[0] if row else None
            if found is not None and found > SCHEMA_VERSION:
                raise StoreError(f"The database {where} holds a store of a newer version of the app "
                                 f"(schema {found}, this version knows {SCHEMA_VERSION}); it was left as it was.")
            if found != SCHEMA_VERSION:
                # Every statement is IF NOT EXISTS (as on SQLite): each version adds what it lacks.
                for statement in _schema():
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {_SCHEMA_TABLE} (version) VALUES (%s)", (SCHEMA_VERSION,))
    except psycopg.Error as exc:
        raise StoreError(f"Cannot set up the store in the database {where}: {_first_line(exc)}.") from None
    return found, SCHEMA_VERSION


def _psycopg() -> tuple[Any, Any]:
    try:
        import psycopg
        from psycopg_pool import ConnectionPool
    except ImportError:
        from desktop_app.extras import pip_install

        raise StoreError(f"A PostgreSQL store needs psycopg and its pool; run: {pip_install('server')}.") from None
    return psycopg, ConnectionPool


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
