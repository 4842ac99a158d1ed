"""The store: accounts, sessions, per-user values, file claims and login
throttling, opened together from settings and closed together. Nothing here
knows of HTTP, Starlette or Gradio (a test reads the imports).

`open_store` is the one way in, so a second backend (PostgreSQL, for a team
server) plugs in here. The SQLite modules are imported when a store is opened,
not when this package is: `desktop_app.store.db` alone stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from desktop_app.settings import Settings
    from desktop_app.store.accounts import Accounts
    from desktop_app.store.db import StoreDatabase
    from desktop_app.store.files import FileOwners
    from desktop_app.store.sessions import SqlSessionStore


@dataclass
class Store:
    db: StoreDatabase
    sessions: SqlSessionStore
    accounts: Accounts
    files: FileOwners

    def close(self) -> None:
        self.db.close()


def open_store(settings: Settings, *, hasher: PasswordHasher | None = None) -> Store:
    """Open (creating if needed) the store in the data directory. `hasher`: the
    accounts' argon2id hasher (default: the product's, accounts.py)."""
    from desktop_app.paths import ensure_private_dir
    from desktop_app.store.accounts import Accounts
    from desktop_app.store.db import Database
    from desktop_app.store.files import FileOwners
    from desktop_app.store.sessions import SqlSessionStore

    db: StoreDatabase
    if settings.store_url is not None:
        from desktop_app.store.pg import PgDatabase

        db = PgDatabase(settings.store_url)
    else:
        ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
        db = Database(settings.dirs.db_path)
    sessions = SqlSessionStore(
        db, idle_seconds=settings.session_idle_seconds, max_seconds=settings.session_max_seconds
    )
    files = FileOwners(db, settings.dirs.gradio_temp)
    return Store(db=db, sessions=sessions, accounts=Accounts(db, sessions, hasher=hasher, files=files), files=files)
