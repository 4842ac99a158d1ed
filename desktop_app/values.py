"""How each setting's value is read: (text, the name of its source) -> value.

Every parser raises a one-line UserError (exit code 2) that names the flag or
variable the value came from, and what would be right (settings.OPTIONS says
which parser each setting uses).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

from desktop_app.errors import UserError

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WEBVIEW_BACKENDS = ("auto", "gtk", "qt")
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


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


_DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _public_host(host: str, bracketed: bool) -> str | None:
    """The host as a browser sends it in Host and Origin (an IDN as its
    xn-- form, an IPv6 literal bracketed), or None if no browser could."""
    if bracketed:
        try:
            return f"[{ipaddress.IPv6Address(host)}]" if "%" not in host else None
        except ValueError:
            return None
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    return ascii_host if all(_DNS_LABEL.fullmatch(label) for label in labels) else None


def parse_public_url(value: str, *, name: str) -> str:
    """'https://tools.example.com' -> itself, without a trailing '/'. The app is
    served at the root of its host: a path would need every URL of the shell and
    of Gradio rewritten, and a proxy can give the app a host of its own. The
    host must be one a browser can send (the guard compares it exactly)."""
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a bad port
    except ValueError:
        parts, port = None, None
    host = None
    if (parts is not None and parts.scheme in ("http", "https") and parts.hostname and "@" not in parts.netloc
            and parts.path in ("", "/") and not parts.query and not parts.fragment and port != 0):
        host = _public_host(parts.hostname, parts.netloc.startswith("["))
    if parts is None or host is None:
        raise UserError(f"{name} must be the address people open, such as https://tools.example.com "
                        f"(http or https, a host, an optional port, no path), not {value!r}.", exit_code=2)
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host += f":{port}"  # browsers leave a default port out of Host and Origin
    return f"{parts.scheme}://{host}"


def parse_bind(value: str, *, name: str) -> str:
    text = str(value).strip()
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise UserError(f"{name} must be an IPv4 address to listen on, such as 127.0.0.1 or 0.0.0.0, "
                        f"not {value!r}.", exit_code=2) from None


def parse_ip_list(value: str, *, name: str) -> str:
    """'10.0.0.5, 10.1.0.0/16' (or '*': every client) -> '10.0.0.5,10.1.0.0/16'."""
    items = [item.strip() for item in str(value).split(",") if item.strip()]
    if items == ["*"]:
        return "*"
    try:
        if not items:
            raise ValueError
        return ",".join(str(ipaddress.ip_network(item, strict=False)) if "/" in item else str(ipaddress.ip_address(item))
                        for item in items)
    except ValueError:
        raise UserError(f"{name} must be a comma-separated list of IP addresses or networks "
                        f"(10.0.0.5,10.1.0.0/16), or '*', not {value!r}.", exit_code=2) from None


def parse_dir(value: str, *, name: str) -> Path:
    # `--data-dir "$UNSET"` would otherwise mean the current directory, wherever that is.
    if str(value) == "":
        raise UserError(f"{name} is empty; give it a directory, or leave it out for the default.", exit_code=2)
    return Path(value)
