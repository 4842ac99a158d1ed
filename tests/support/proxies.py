"""The proxies in front of the tests' team server: the shipped reference configs
(deploy/haproxy.cfg, deploy/nginx.conf) as they are, but for their addresses:
the front end on free loopback ports (TLS with a throwaway self-signed
certificate, so the cookies are the real `Secure`, `__Host-` ones), one
`server` line per instance, and haproxy's health checks every 200 ms so a test
need not wait seconds for them."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SHIPPED = DEPLOY / "haproxy.cfg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed_pem(folder: Path) -> Path:
    key, cert, pem = folder / "key.pem", folder / "cert.pem", folder / "site.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=60)
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return pem


def config_for(port: int, plain_port: int, pem: Path, servers: Sequence[tuple[str, int]]) -> str:
    """The shipped config with the test's addresses (and quick health checks)."""
    text = SHIPPED.read_text()
    text, binds = re.subn(r"(?m)^    bind :443 ssl crt \S+$", f"    bind 127.0.0.1:{port} ssl crt {pem}", text)
    text, plain = re.subn(r"(?m)^    bind :80$", f"    bind 127.0.0.1:{plain_port}", text)
    text, checks = re.subn(r"(?m)^    default-server inter \S+ ", "    default-server inter 200ms ", text)
    text, _ = re.subn(r"(?m)^    server app\d .*\n", "", text)
    assert (binds, plain, checks) == (1, 1, 1), "deploy/haproxy.cfg no longer has the lines this test replaces"
    lines = "".join(f"    server {name} 127.0.0.1:{p} check cookie {name}\n" for name, p in servers)
    return text.rstrip("\n") + "\n" + lines


def public_url(port: int) -> str:
    """What people open: the instances' --public-url, for a proxy on `port`."""
    return f"https://127.0.0.1:{port}"


class Haproxy:
    def __init__(self, port: int, servers: Sequence[tuple[str, int]]) -> None:
        """`port`: the TLS front end's (the instances were told public_url(port));
        `servers`: (name, port) of each instance."""
        if shutil.which("haproxy") is None:
            raise RuntimeError("haproxy is not installed (Debian: apt-get install haproxy)")
        self.root = Path(tempfile.mkdtemp(prefix="haproxy-"))
        self.port, plain = port, free_port()
        self.url = public_url(port)
        self.config = self.root / "haproxy.cfg"
        self.config.write_text(config_for(self.port, plain, self_signed_pem(self.root), servers))
        self.log = (self.root / "log").open("w")
        # -db: in the foreground, no daemon; its log lines (warnings only) go to the file.
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"haproxy did not start: {self.log_text}") from None
                time.sleep(0.05)
        self.log_text = ""

    def client(self, **kwargs: object) -> httpx.Client:
        """A browser of the team: https to the proxy, our Origin on its requests."""
        return httpx.Client(base_url=self.url, verify=False, timeout=30,  # type: ignore[arg-type]
                            headers={"origin": self.url}, **kwargs)

    def wait_until(self, up: Sequence[str], timeout: float = 30) -> None:
        """Until haproxy's health checks have put exactly `up` in rotation."""
        deadline = time.monotonic() + timeout
        while sorted(self.servers_up()) != sorted(up):
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy has {self.servers_up()} up, not {list(up)}")
            time.sleep(0.1)

    def servers_up(self) -> list[str]:
        """Which servers answer in rotation, read off the proxy: each is asked for
        its INSTANCE cookie by a request pinned to it (`INSTANCE=name`): one that
        is down is redispatched, and answers with another's cookie."""
        up = []
        for name in re.findall(r"(?m)^    server (\S+) ", self.config.read_text()):
            with self.client(cookies={"INSTANCE": name}) as client:
                r = client.get("/healthz")
                if r.status_code == 200 and r.cookies.get("INSTANCE", name) == name:
                    up.append(name)
        return up

    def close(self) -> None:
        _stop(self.proc)
        self.log.close()
        self.log_text = (self.root / "log").read_text(errors="replace")  # kept for a failure's message
        shutil.rmtree(self.root, ignore_errors=True)


def _stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')}") from None
            time.sleep(0.05)


class Nginx:
    """deploy/nginx.conf (a conf.d site) inside a minimal main config of its own."""

    def __init__(self, port: int, servers: Sequence[int]) -> None:
        if shutil.which("nginx") is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self.root = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.port, self.url = port, public_url(port)
        pem = self_signed_pem(self.root)
        site = (DEPLOY / "nginx.conf").read_text()
        replaced = [
            (r"(?m)^    listen 443 ssl;", f"    listen 127.0.0.1:{port} ssl;"),
            (r"(?m)^    listen 80;", f"    listen 127.0.0.1:{free_port()};"),
            (r"(?m)^    ssl_certificate .*$", f"    ssl_certificate {pem};"),
            (r"(?m)^    ssl_certificate_key .*$", f"    ssl_certificate_key {pem};"),
        ]
        for pattern, line in replaced:
            site, n = re.subn(pattern, line, site)
            assert n == 1, f"deploy/nginx.conf no longer has the line {pattern!r} this test replaces"
        site, n = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+ (.*)$", "", site)
        assert n >= 1, "deploy/nginx.conf has no upstream server lines"
        lines = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in servers)
        site = site.replace("    ip_hash;\n", "    ip_hash;\n" + lines)
        (self.root / "site.conf").write_text(site)
        temp = {name: self.root / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        (self.root / "nginx.conf").write_text(
            f"user root;\nworker_processes 1;\npid {self.root}/nginx.pid;\nerror_log {self.root}/error.log;\n"
            "events {}\nhttp {\n  access_log off;\n"
            + "".join(f"  {name}_temp_path {path};\n" if name != "body" else f"  client_body_temp_path {path};\n"
                      for name, path in temp.items())
            + f"  include {self.root}/site.conf;\n}}\n")
        self.proc = subprocess.Popen(["nginx", "-c", str(self.root / "nginx.conf"), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, self.proc, "nginx", self.root / "error.log")
        except RuntimeError:
            self.close()
            raise

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=False, timeout=30,  # type: ignore[arg-type]
                            headers={"origin": self.url}, **kwargs)

    def close(self) -> None:
        _stop(self.proc)
        shutil.rmtree(self.root, ignore_errors=True)
