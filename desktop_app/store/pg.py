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

from desktop_app.errors import StoreBusy, StoreError
from desktop_app.store.db import SCHEMA_SQL, SCHEMA_VERSION

WRITE_LOCK = 0x6465736B  # "desk": the one advisory lock all write transactions take
_SCHEMA_TABLE = "desktop_app_schema"
CONNECT_TIMEOUT_SECONDS = 5
# How long a request waits for a connection from the pool before its 503: the
# database gone, the person hears so in two seconds rather than ten.
POOL_WAIT_SECONDS = 2
# The pool's reconnection backs off (1, 2, 4 ... s) until it gives up; a request
# after that starts again at 1 s. Without a cap, a minute's outage cost a minute more.
RECONNECT_SECONDS = 10
# No statement, and no wait for a lock (the write lock included), lasts longer:
# a stuck writer elsewhere costs a request its 503, not the instance its pool.
# Keepalives: a database host gone from the network is noticed.
SESSION_OPTIONS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "options": "-c statement_timeout=15000 -c lock_timeout=10000 -c idle_in_transaction_session_timeout=60000",
    "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
}


# Where a postgresql:// URL carries its password: user:PASSWORD@, or ?password=.
_USERINFO_PASSWORD = re.compile(r"^(postgres(?:ql)?://[^/?#@]*?:)([^@/?#]*)@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)([^&#]*)")


def redact(url: str) -> str:
    """The URL without its password, for messages and logs: `user:***@`, and
    `password=***` in its query. A URL too broken to take apart is not shown."""
    if not url.startswith(("postgresql://", "postgres://")):
        return "(the --store URL)"
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1***@", url))


def _safe_detail(exc: BaseException, url: str) -> str:
    """The database's words, unless they repeat any part of the URL's secret
    (libpq quotes the bad part of a malformed URL, password included)."""
    text = _first_line(exc)
    secrets_ = [m.group(2) for pattern in (_USERINFO_PASSWORD, _QUERY_PASSWORD) for m in pattern.finditer(url)]
    if any(secret and secret in text for secret in secrets_) or "://" in text:
        return "the URL could not be read"
    return text


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
                                        reconnect_timeout=RECONNECT_SECONDS, kwargs=SESSION_OPTIONS)
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS + 1)
        except Exception as exc:
            raise StoreError(f"Cannot reach the database {self.path}: {_safe_detail(exc, url)}. "
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
    def write(self, *, wait: bool = True) -> Iterator[_Connection]:
        """`wait=False`: StoreBusy at once if another writer holds the lock (for
        bookkeeping that may be skipped: a stuck writer elsewhere must not make
        every request's `touch` hold a pool connection while it waits)."""
        try:
            with self._pool.connection(timeout=None if wait else 0.5) as conn, conn.transaction():
                if not _take_write_lock(conn, wait=wait):
                    raise StoreBusy()
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
            _take_write_lock(conn, wait=True)
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
        raise StoreError(f"Cannot set up the store in the database {where}: {_safe_detail(exc, url)}.") from None
    return found, SCHEMA_VERSION


def _take_write_lock(conn: Any, *, wait: bool) -> bool:
    """First in every write transaction (psycopg's own connection, `%s`).
    READ COMMITTED whatever the database's default: under REPEATABLE READ the
    snapshot is taken at the lock call, before the wait, and the reads after it
    would miss the previous writer's commit (an attack pass made a session
    outlive a password change that way). `wait=False`: False if it is held."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    if wait:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        return True
    return bool(conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (WRITE_LOCK,)).fetchone()[0])


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
