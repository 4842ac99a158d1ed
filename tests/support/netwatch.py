"""Run the app with an audit hook that records every outbound connection attempt.

Python raises an audit event for each socket.connect / getaddrinfo, whichever
library makes it (httpx, urllib, huggingface_hub ...). Anything not aimed at the
loopback interface is written, one per line, to the file named by NETWATCH_LOG.

    NETWATCH_LOG=out.txt python tests/support/netwatch.py --headless --data-dir ...
"""

from __future__ import annotations

import ipaddress
import os
import sys

LOG = os.environ["NETWATCH_LOG"]
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "", None}


def _is_local(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple) -> None:
    host = None
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple):
            host = address[0]
        else:
            return  # AF_UNIX paths: local by definition
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if not _is_local(host):
        with open(LOG, "a") as f:
            f.write(f"{event} {host!r}\n")


sys.addaudithook(_hook)

from desktop_app.cli import main  # noqa: E402  (the hook must be in place first)

raise SystemExit(main(sys.argv[1:]))
