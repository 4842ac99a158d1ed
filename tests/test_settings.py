"""Settings: flags over environment over defaults, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.errors import UserError
from desktop_app.identity import DEMO
from desktop_app.settings import Settings


def test_defaults(tmp_path: Path) -> None:
    s = Settings.build({}, environ={})
    assert (s.port, s.headless, s.ui, s.debug, s.host) == (0, False, DEMO.ui, False, "127.0.0.1")
    assert (s.session_idle_seconds, s.session_max_seconds, s.max_upload_bytes) == (86400, 14 * 86400, 100 << 20)
    assert "desktop-app" in str(s.dirs.data)
    assert s.webview == "auto"


def test_flags_win_over_environment(tmp_path: Path) -> None:
    env = {"DESKTOP_APP_PORT": "8001", "DESKTOP_APP_DATA_DIR": str(tmp_path / "env"),
           "DESKTOP_APP_SESSION_IDLE": "30m", "DESKTOP_APP_HEADLESS": "1", "DESKTOP_APP_UI": "a.b:c"}
    s = Settings.build({}, environ=env)
    assert (s.port, s.session_idle_seconds, s.headless, s.ui) == (8001, 1800, True, "a.b:c")
    assert s.dirs.data == tmp_path / "env"
    assert s.dirs.cache == tmp_path / "env" / "cache" and s.dirs.log == tmp_path / "env" / "logs"
    s = Settings.build({"port": "9002", "data_dir": str(tmp_path / "flag"), "session_idle": None}, environ=env)
    assert s.port == 9002 and s.dirs.data == tmp_path / "flag" and s.session_idle_seconds == 1800


@pytest.mark.parametrize(
    ("flags", "env", "fragment"),
    [
        ({"port": "-1"}, {}, "--port must be a port number"),
        ({}, {"DESKTOP_APP_PORT": "http"}, "DESKTOP_APP_PORT must be a port number"),
        ({"session_max": "0"}, {}, "--session-max must be a positive duration"),
        ({"max_upload": "lots"}, {}, "--max-upload must be a size"),
        ({"ui": "no_colon"}, {}, "--ui must look like"),
        ({}, {"DESKTOP_APP_WEBVIEW": "chrome"}, "DESKTOP_APP_WEBVIEW must be one of auto, gtk, qt, not 'chrome'"),
    ],
)
def test_bad_values_name_the_setting(flags: dict, env: dict, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        Settings.build(flags, environ=env)


def test_login_path_does_not_import_gradio_or_fastapi() -> None:
    # The login page must be servable before Gradio (~3 s to import) is loaded,
    # and FastAPI/pydantic (~0.15 s) are Gradio's needs, not the login page's.
    code = ("import sys, desktop_app.cli, desktop_app.web.app, desktop_app.web.server, desktop_app.store, "
            "desktop_app.desktop.boot, desktop_app.desktop.window, desktop_app.web.gradio_mount, desktop_app.web.launch; "
            "print(sorted(m for m in ('gradio', 'fastapi', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("var", ["DESKTOP_APP_HEADLESS", "DESKTOP_APP_DEBUG", "DESKTOP_APP_LAUNCH_TOKEN"])
def test_every_switch_refuses_what_is_neither_on_nor_off(var: str) -> None:
    # One parser for every on/off setting: a typo is an error, not "off"
    # (DESKTOP_APP_HEADLESS=ture used to open a window without a word).
    with pytest.raises(UserError, match=f"{var} must be on or off"):
        Settings.build({}, environ={var: "ture"})
    assert Settings.build({}, environ={var: "yes"}) == Settings.build({}, environ={var: "1"})


@pytest.mark.parametrize(("given", "read"), [
    ("https://Tools.Example.COM:443/", "https://tools.example.com"),  # as a browser sends Host and Origin
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("https://[::1]:8443", "https://[::1]:8443"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),  # an IDN as it is sent
])
def test_a_public_url_is_read_as_browsers_send_it(given: str, read: str) -> None:
    assert Settings.build({"public_url": given}, environ={}, serve=True).public_url == read


@pytest.mark.parametrize("given", [
    "https://tools.example.com/app", "ftp://tools.example.com", "tools.example.com", "https://u:p@tools.example.com",
    "https://:@tools.example.com", "https://tools.example.com,evil.example", "https://*.example.com",
    "https://tools example.com", "https://tools..example.com", "https://[v1.x]", "https://[fe80::1%25eth0]",
    "https://tools.example.com:0", "https://tools.example.com?x=1",
])
def test_a_public_url_no_browser_could_send_is_refused(given: str) -> None:
    # Each would make a server that answers 403 to everyone: refused at start instead.
    with pytest.raises(UserError, match="--public-url must be the address people open"):
        Settings.build({"public_url": given}, environ={}, serve=True)


def test_serve_and_the_app_read_only_their_own_settings() -> None:
    env = {"DESKTOP_APP_PUBLIC_URL": "https://tools.example.com", "DESKTOP_APP_BIND": "0.0.0.0",
           "DESKTOP_APP_HEADLESS": "0", "DESKTOP_APP_LAUNCH_TOKEN": "on"}
    app = Settings.build({}, environ=env)
    assert (app.public_url, app.host, app.launch_token) == (None, "127.0.0.1", True)  # the desktop stays on loopback
    server = Settings.build({}, environ=env, serve=True)
    assert (server.public_url, server.host, server.headless, server.launch_token) == (
        "https://tools.example.com", "0.0.0.0", True, False)
    assert server.secure_cookies and server.serving and not app.serving
    with pytest.raises(UserError, match="serve needs --public-url"):
        Settings.build({}, environ={}, serve=True)
