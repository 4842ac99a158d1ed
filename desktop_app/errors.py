"""The one exception type for problems the person can fix.

Raised anywhere, it is caught at the edge (the CLI, a page) and shown as a single
line that names the bad value and what to do about it. Never a traceback.
"""

from pathlib import Path


class UserError(Exception):
    """A mistake in input or environment, explained in one line.

    `exit_code` follows sysexits loosely: 2 for bad usage, 1 for everything else.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class StoreError(UserError):
    """The data store cannot be opened, read or written.

    `public` is the same sentence without the store's path or the database's own
    words: what a page shows (the log and the CLI get `message`)."""

    def __init__(self, message: str, *, exit_code: int = 1, public: str | None = None) -> None:
        super().__init__(message, exit_code=exit_code)
        self.public = public or "The app's data could not be saved or read. Try again; details are in the log."


class StoreBusy(StoreError):
    """`write(wait=False)`: another writer holds the store's write lock just now."""

    def __init__(self) -> None:
        super().__init__("The data store is busy; try again in a moment.")


class DamagedStoreError(StoreError):
    """The store file is there but is not a readable database of ours (not a
    database, truncated, corrupt). It is left untouched; the person may choose
    to set it aside (db.set_aside) and start with an empty store."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class Cancelled(Exception):
    """`Runtime.stop()` was called while the app was still starting."""
