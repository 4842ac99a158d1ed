"""The stateful parts behind the web app, opened together and closed together."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.auth import Accounts
from desktop_app.db import Database
from desktop_app.files import FileOwners
from desktop_app.paths import ensure_private_dir
from desktop_app.sessions import SqliteSessionStore
from desktop_app.settings import Settings


@dataclass
class Services:
    db: Database
    sessions: SqliteSessionStore
    accounts: Accounts
    files: FileOwners

    def close(self) -> None:
        self.db.close()


def open_services(settings: Settings) -> Services:
    """Open (creating if needed) the store in the data directory."""
    ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
    db = Database(settings.dirs.db_path)
    sessions = SqliteSessionStore(
        db, idle_seconds=settings.session_idle_seconds, max_seconds=settings.session_max_seconds
    )
    files = FileOwners(db, settings.dirs.gradio_temp)
    return Services(db=db, sessions=sessions, accounts=Accounts(db, sessions, files=files), files=files)
