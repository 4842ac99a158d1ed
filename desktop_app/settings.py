"""One settings object, built once at the edge and passed down.

Precedence: command-line flags > environment variables `DESKTOP_APP_*` > defaults.
This is the only module that reads the environment. Every field is documented in
the README (a test checks that).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.errors import UserError
from desktop_app.identity import UI_FACTORY as DEFAULT_UI
from desktop_app.paths import AppDirs, resolve_dirs

ENV_PREFIX = "DESKTOP_APP_"

# name -> (environment variable, parser). The CLI flag for each is documented in cli.py.
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str, *, name: str) -> int:
    """'90', '90s', '30m', '12h', '14d' -> seconds (a positive whole number)."""
    text = str(value).strip().lower()
    unit = 1
    if text and text[-1] in _DURATION_UNITS:
        unit = _DURATION_UNITS[text[-1]]
        text = text[:-1]
    if not text.isdigit() or int(text) <= 0:
        raise UserError(
            f"{name} must be a positive duration such as 900, 30m, 12h or 14d, not {value!r}.",
            exit_code=2,
        )
    return int(text) * unit


def parse_port(value: str | int, *, name: str = "--port") -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 65535:
        raise UserError(
            f"{name} must be a port number from 0 to 65535 (0 picks a free one), not {value!r}.",
            exit_code=2,
        )
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


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_switch(value: str | bool, *, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise UserError(f"{name} must be on or off, not {value!r}.", exit_code=2)


WEBVIEW_BACKENDS = ("auto", "gtk", "qt")


def parse_webview(value: str, *, name: str) -> str:
    text = str(value).strip().lower()
    if text not in WEBVIEW_BACKENDS:
        raise UserError(f"{name} must be one of {', '.join(WEBVIEW_BACKENDS)}, not {value!r}.", exit_code=2)
    return text


@dataclass(frozen=True)
class Settings:
    dirs: AppDirs
    port: int = 0
    headless: bool = False
    ui: str = DEFAULT_UI
    debug: bool = False
    # A session ends after this long without a request ...
    session_idle_seconds: int = 24 * 3600
    # ... and in any case this long after login.
    session_max_seconds: int = 14 * 86400
    max_upload_bytes: int = 100 << 20
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
    def build(
        cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Merge flags (None means 'not given') over the environment over defaults."""
        flags = {k: v for k, v in (flags or {}).items() if v is not None}
        env = os.environ if environ is None else environ

        def pick(name: str) -> Any:
            if name in flags:
                return flags[name], f"--{name.replace('_', '-')}"
            var = ENV_PREFIX + name.upper()
            if env.get(var, "") != "":
                return env[var], var
            return None, None

        def path_of(name: str) -> Path | None:
            value, _ = pick(name)
            return Path(value) if value is not None else None

        dirs = resolve_dirs(path_of("data_dir"), path_of("cache_dir"), path_of("log_dir"))
        kwargs: dict[str, Any] = {"dirs": dirs}

        value, source = pick("port")
        if value is not None:
            kwargs["port"] = parse_port(value, name=source)
        value, source = pick("headless")
        if value is not None:
            kwargs["headless"] = value if isinstance(value, bool) else _truthy(value)
        value, source = pick("debug")
        if value is not None:
            kwargs["debug"] = value if isinstance(value, bool) else _truthy(value)
        value, source = pick("launch_token")
        if value is not None:
            kwargs["launch_token"] = parse_switch(value, name=source)
        value, source = pick("webview")
        if value is not None:
            kwargs["webview"] = parse_webview(value, name=source)
        value, source = pick("ui")
        if value is not None:
            if ":" not in str(value):
                raise UserError(
                    f"{source} must look like 'package.module:function', not {value!r}.",
                    exit_code=2,
                )
            kwargs["ui"] = str(value)
        value, source = pick("session_idle")
        if value is not None:
            kwargs["session_idle_seconds"] = parse_duration(value, name=source)
        value, source = pick("session_max")
        if value is not None:
            kwargs["session_max_seconds"] = parse_duration(value, name=source)
        value, source = pick("max_upload")
        if value is not None:
            kwargs["max_upload_bytes"] = parse_size(value, name=source)
        return cls(**kwargs)
