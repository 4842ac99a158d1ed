"""One settings object, built once at the edge and passed down, from one table.

OPTIONS lists every setting once: its flag, its environment variable, how its
value is read, its default and its help. The CLI's arguments, `Settings.build`
and the docs test (docs/settings.md) are all made from it, so a setting cannot
be added in one place and forgotten in another.

Precedence: command-line flags > environment variables (`DESKTOP_APP_*`: the slug's) > defaults.
This is the only module that reads the environment (the toolkit's own DISPLAY
aside, read beside the toolkit). A value that cannot be read is a one-line
error that names the flag or variable it came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.errors import UserError
from desktop_app.identity import current
from desktop_app.paths import AppDirs, resolve_dirs


def env_prefix() -> str:
    """The app's own variables: DESKTOP_APP_* for the demo, UNIT_CONVERTER_* for
    an app whose slug is unit-converter (two apps on one machine share none)."""
    return current().slug.upper().replace("-", "_") + "_"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WEBVIEW_BACKENDS = ("auto", "gtk", "qt")
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


# -- parsers: (value, name of its source) -> value --------------------------
def parse_duration(value: str, *, name: str) -> int:
    """'90', '90s', '30m', '12h', '14d' -> seconds (a positive whole number)."""
    text = str(value).strip().lower()
    unit = 1
    if text and text[-1] in _DURATION_UNITS:
        unit = _DURATION_UNITS[text[-1]]
        text = text[:-1]
    if not text.isdigit() or int(text) <= 0:
        raise UserError(f"{name} must be a positive duration such as 900, 30m, 12h or 14d, not {value!r}.",
                        exit_code=2)
    return int(text) * unit


def parse_count(value: str | int, *, name: str) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):  # isdigit alone takes '²'
        raise UserError(f"{name} must be a whole number, 0 or more, not {value!r}.", exit_code=2)
    return int(text)


def parse_port(value: str | int, *, name: str = "--port") -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 65535:
        raise UserError(f"{name} must be a port number from 0 to 65535 (0 picks a free one), not {value!r}.",
                        exit_code=2)
    return port


def parse_size(value: str | int, *, name: str) -> int:
    """'100mb', '5gb', '2048' -> bytes."""
    text = str(value).strip().lower()
    for suffix, factor in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)):
        if text.endswith(suffix):
            text, mult = text[: -len(suffix)].strip(), factor
            break
    else:
        mult = 1
    if not text.isdigit() or int(text) <= 0:
        raise UserError(f"{name} must be a size such as 100mb or 2gb, not {value!r}.", exit_code=2)
    return int(text) * mult


def parse_switch(value: str | bool, *, name: str) -> bool:
    """Every on/off setting: 1/true/yes/on or 0/false/no/off; anything else
    is an error (`DESKTOP_APP_HEADLESS=ture` must not quietly open a window)."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise UserError(f"{name} must be on or off (1/0, true/false, yes/no), not {value!r}.", exit_code=2)


def parse_webview(value: str, *, name: str) -> str:
    text = str(value).strip().lower()
    if text not in WEBVIEW_BACKENDS:
        raise UserError(f"{name} must be one of {', '.join(WEBVIEW_BACKENDS)}, not {value!r}.", exit_code=2)
    return text


def parse_store(value: str, *, name: str) -> str:
    text = str(value).strip()
    if not text.startswith(("postgresql://", "postgres://")):
        # Not echoed: a URL can carry a password.
        raise UserError(f"{name} must be a PostgreSQL URL such as postgresql://USER@HOST/DB; "
                        "the value given does not start with postgresql:// (it is not shown: it may hold a password).",
                        exit_code=2)
    return text


def parse_ui(value: str, *, name: str) -> str:
    if ":" not in str(value):
        raise UserError(f"{name} must look like 'package.module:function', not {value!r}.", exit_code=2)
    return str(value)


def parse_dir(value: str, *, name: str) -> Path:
    # `--data-dir "$UNSET"` would otherwise mean the current directory, wherever that is.
    if str(value) == "":
        raise UserError(f"{name} is empty; give it a directory, or leave it out for the default.", exit_code=2)
    return Path(value)


# -- the table ----------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    name: str  # the key in `Settings.build`'s flags; the flag is --name-with-dashes
    parse: Callable[..., Any]
    default: str  # as a person would write it (the docs show it)
    help: str
    metavar: str | None = None  # None: a switch flag, given without a value
    attr: str | None = None  # the Settings field, when not `name` (None for the directories)
    everywhere: bool = False  # accepted by the subcommands (users, store) too

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return env_prefix() + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("data_dir", parse_dir, "the OS's user data folder", "where accounts, sessions and data live",
           metavar="PATH", everywhere=True),
    Option("cache_dir", parse_dir, "DATA_DIR/cache, or the OS's cache folder", "Gradio's temporary files",
           metavar="PATH", everywhere=True),
    Option("log_dir", parse_dir, "DATA_DIR/logs, or the OS's log folder", "the rotating log file",
           metavar="PATH", everywhere=True),
    Option("store", parse_store, "the data directory's SQLite file",
           "a postgresql:// URL: the accounts, sessions and data of a team server", metavar="URL",
           attr="store_url", everywhere=True),
    Option("debug", parse_switch, "off", "log more, also to stderr", everywhere=True),
    Option("headless", parse_switch, "off", "serve only, no window; prints 'READY <url>'"),
    Option("port", parse_port, "0", "port on 127.0.0.1; 0 = any free port", metavar="N"),
    Option("ui", parse_ui, "the app's own", "function returning your gr.Blocks", metavar="MODULE:FUNCTION"),
    Option("session_idle", parse_duration, "24h", "end a session unused this long, e.g. 30m, 24h",
           metavar="DURATION", attr="session_idle_seconds"),
    Option("session_max", parse_duration, "14d", "end any session this long after login",
           metavar="DURATION", attr="session_max_seconds"),
    Option("temp_max_age", parse_duration, "7d", "remove Gradio's temporary files (uploads, results) "
           "nobody was given this long", metavar="DURATION", attr="temp_max_age_seconds"),
    Option("keep_backups", parse_count, "7", "keep this many daily backups of the store in DATA_DIR/backups "
           "(0: make none)", metavar="N"),
    Option("launch_token", parse_switch, "on", "require this launch's secret URL before any page",
           metavar="on|off"),
    Option("webview", parse_webview, "auto", "the window's web engine on Linux: WebKitGTK, else Qt",
           metavar="auto|gtk|qt"),
    Option("max_upload", parse_size, "100mb", "largest file upload, e.g. 100mb, 2gb", metavar="SIZE",
           attr="max_upload_bytes"),
)


@dataclass(frozen=True)
class Settings:
    dirs: AppDirs
    port: int = 0
    headless: bool = False
    # The app's own UI (identity.py) unless --ui names another.
    ui: str = field(default_factory=lambda: current().ui)
    debug: bool = False
    # A session ends after this long without a request ...
    session_idle_seconds: int = 24 * 3600
    # ... and in any case this long after login.
    session_max_seconds: int = 14 * 86400
    # Gradio's temp files nobody was given this long are removed (runtime's housekeeping).
    temp_max_age_seconds: int = 7 * 86400
    max_upload_bytes: int = 100 << 20
    # None: the SQLite store in the data directory; else a postgresql:// URL (store/pg.py).
    store_url: str | None = None
    # A backup of the store at most once a day, the newest this many kept (runtime's housekeeping).
    keep_backups: int = 7
    # A random token per launch that a browser must present once (the window does
    # it for you) before even the login page is served. Off only for servers.
    launch_token: bool = True
    # The window's web engine on Linux: "auto" (WebKitGTK if installed, else Qt),
    # "gtk" or "qt". Other systems always use their own webview.
    webview: str = "auto"
    # Never configurable: the app is for this machine only.
    host: str = field(default="127.0.0.1", init=False)

    @property
    def data_dir(self) -> Path:
        return self.dirs.data

    @classmethod
    def build(cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Merge flags (None means 'not given') over the environment over defaults."""
        given = {k: v for k, v in (flags or {}).items() if v is not None}
        unknown = set(given) - {option.name for option in OPTIONS}
        if unknown:
            raise TypeError(f"not settings: {', '.join(sorted(unknown))}")  # a bug of ours, not the person's
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for option in OPTIONS:
            if option.name in given:
                value, source = given[option.name], option.flag
            elif env.get(option.env, "") != "":
                value, source = env[option.env], option.env
            else:
                continue
            values[option.name] = option.parse(value, name=source)
        dirs = resolve_dirs(values.pop("data_dir", None), values.pop("cache_dir", None), values.pop("log_dir", None))
        by_attr = {option.name: option.attr or option.name for option in OPTIONS}
        return cls(dirs=dirs, **{by_attr[name]: value for name, value in values.items()})
