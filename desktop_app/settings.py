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
from desktop_app.values import (
    parse_bind,
    parse_count,
    parse_dir,
    parse_duration,
    parse_ip_list,
    parse_port,
    parse_public_url,
    parse_size,
    parse_store,
    parse_switch,
    parse_ui,
    parse_webview,
)


def env_prefix() -> str:
    """The app's own variables: DESKTOP_APP_* for the demo, UNIT_CONVERTER_* for
    an app whose slug is unit-converter (two apps on one machine share none)."""
    return current().slug.upper().replace("-", "_") + "_"


# -- the table ----------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    name: str  # the key in `Settings.build`'s flags; the flag is --name-with-dashes
    parse: Callable[..., Any]
    default: str  # as a person would write it (the docs show it)
    help: str
    metavar: str | None = None  # None: a switch flag, given without a value
    attr: str | None = None  # the Settings field, when not `name` (None for the directories)
    # Where it is accepted: "all" (the app and every command), "run" (the app and
    # `serve`), "window" (the app only: the desktop's own), "serve" (`serve` only).
    scope: str = "run"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return env_prefix() + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("data_dir", parse_dir, "the OS's user data folder", "where accounts, sessions and data live",
           metavar="PATH", scope="all"),
    Option("cache_dir", parse_dir, "DATA_DIR/cache, or the OS's cache folder", "Gradio's temporary files",
           metavar="PATH", scope="all"),
    Option("log_dir", parse_dir, "DATA_DIR/logs, or the OS's log folder", "the rotating log file",
           metavar="PATH", scope="all"),
    Option("store", parse_store, "the data directory's SQLite file",
           "a postgresql:// URL: the accounts, sessions and data of a team server", metavar="URL",
           attr="store_url", scope="all"),
    Option("debug", parse_switch, "off", "log more, also to stderr", scope="all"),
    Option("headless", parse_switch, "off", "serve only, no window; prints 'READY <url>'", scope="window"),
    Option("port", parse_port, "0", "port to listen on; 0 = any free port", metavar="N"),
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
           metavar="on|off", scope="window"),
    Option("webview", parse_webview, "auto", "the window's web engine on Linux: WebKitGTK, else Qt",
           metavar="auto|gtk|qt", scope="window"),
    Option("max_upload", parse_size, "100mb", "largest file upload, e.g. 100mb, 2gb", metavar="SIZE",
           attr="max_upload_bytes"),
    Option("public_url", parse_public_url, "none: required", "serve: the address people open, "
           "e.g. https://tools.example.com", metavar="URL", scope="serve"),
    Option("bind", parse_bind, "127.0.0.1", "serve: the address to listen on", metavar="ADDR",
           attr="host", scope="serve"),
    Option("forwarded_allow_ips", parse_ip_list, "none", "serve: trust X-Forwarded-For/-Proto only "
           "from these proxies", metavar="IPS", scope="serve"),
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
    # The address to listen on: always 127.0.0.1 for the app on a desktop;
    # `serve --bind` may say otherwise.
    host: str = "127.0.0.1"
    # `serve`: a team server behind a reverse proxy at `public_url` (no window, no
    # launch token, the first account from the CLI). None on the desktop.
    public_url: str | None = None
    # `serve`: the proxies whose X-Forwarded-For/-Proto are believed (None: nobody's).
    forwarded_allow_ips: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.dirs.data

    @property
    def serving(self) -> bool:
        """A team server (`serve`), not the app on one person's computer."""
        return self.public_url is not None

    @property
    def secure_cookies(self) -> bool:
        """`Secure` and the `__Host-` prefix: only behind an https public URL (the
        desktop speaks plain http on loopback, where WebKit drops Secure cookies)."""
        return self.public_url is not None and self.public_url.startswith("https://")

    @classmethod
    def build(cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None, *,
              serve: bool = False) -> Settings:
        """Merge flags (None means 'not given') over the environment over defaults.
        `serve`: the settings of `serve` (a team server), which reads the serve
        options and not the window's; the app reads the window's and not serve's."""
        given = {k: v for k, v in (flags or {}).items() if v is not None}
        unknown = set(given) - {option.name for option in OPTIONS}
        if unknown:
            raise TypeError(f"not settings: {', '.join(sorted(unknown))}")  # a bug of ours, not the person's
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for option in OPTIONS:
            if option.scope == ("window" if serve else "serve"):
                continue
            if option.name in given:
                value, source = given[option.name], option.flag
            elif env.get(option.env, "") != "":
                value, source = env[option.env], option.env
            else:
                continue
            values[option.name] = option.parse(value, name=source)
        dirs = resolve_dirs(values.pop("data_dir", None), values.pop("cache_dir", None), values.pop("log_dir", None))
        by_attr = {option.name: option.attr or option.name for option in OPTIONS}
        if serve:
            if "public_url" not in values:
                raise UserError(f"serve needs --public-url (or {env_prefix()}PUBLIC_URL): the address people "
                                "open, such as https://tools.example.com.", exit_code=2)
            values.update(headless=True, launch_token=False)  # no window; the sign-in is the gate
        return cls(dirs=dirs, **{by_attr[name]: value for name, value in values.items()})
