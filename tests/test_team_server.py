"""`desktop-app serve` (#16): instances of the real app as child processes on one
PostgreSQL, behind the shipped haproxy config (deploy/haproxy.cfg) with TLS,
as a team would run them. Failover keeps people signed in; SIGTERM drains;
concurrent saves and sign-ins across instances lose nothing."""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop_app.store import open_store
from tests.support.helpers import PASSWORD, AppProcess, assert_one_line_error, make_settings, run_cli, sign_in
from tests.support.proxies import Haproxy, Nginx, free_port, public_url
from tests.test_login_burst import peak_rss_mib
from tests.test_web import call_event, event_outcome

NAMES = ("app1", "app2")


def serve(data_dir: Path, *args: str, port: int = 0) -> AppProcess:
    return AppProcess(data_dir, "serve", "--port", str(port), *args, headless=False)


def wait_until_ready(app: AppProcess, timeout: float = 120) -> None:
    """Until its /readyz says 200: the UI is built (haproxy counts a server up
    until its checks say otherwise, and the first ones would)."""
    deadline = time.monotonic() + timeout
    while httpx.get(f"{app.url}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, app.log_tail()
        time.sleep(0.2)


class Team:
    """Two instances on one database behind haproxy."""

    def __init__(self, pg_url: str, root: Path) -> None:
        front, ports = free_port(), [free_port() for _ in NAMES]
        self.instances = {
            name: serve(root / name, "--store", pg_url, "--public-url", public_url(front),
                        "--forwarded-allow-ips", "127.0.0.1", port=port)
            for name, port in zip(NAMES, ports, strict=True)
        }
        self.proxy: Haproxy | None = None
        try:
            for app in self.instances.values():
                app.wait_ready()
                wait_until_ready(app)
            self.proxy = Haproxy(front, list(zip(NAMES, ports, strict=True)))
            self.proxy.wait_until(NAMES, timeout=120)  # each instance's /readyz: its UI is built
        except BaseException:
            self.close()
            raise

    @property
    def front(self) -> Haproxy:
        assert self.proxy is not None
        return self.proxy

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.close()
        for app in self.instances.values():
            app.kill()


@pytest.fixture
def team(pg_url: str, tmp_path: Path) -> Iterator[Team]:
    r = run_cli("users", "add", "alice", "--password-stdin", "--store", pg_url, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    team = Team(pg_url, tmp_path)
    yield team
    team.close()


def test_an_instance_stops_and_its_people_stay_signed_in_on_the_other(team: Team) -> None:
    with team.front.client() as browser:
        assert sign_in(browser, "alice").status_code == 303
        # The cookies as a browser keeps them behind https: Secure, and the session's __Host-.
        assert "__Host-desktop-app-session" in browser.cookies and "INSTANCE" in browser.cookies
        served_by = browser.cookies["INSTANCE"]
        config = browser.get("/gradio/config").json()
        assert config["root"] == team.front.url + "/gradio"  # Gradio's own links are the public URL's
        assert call_event(browser, "save_notes", ["kept through a failover"])[0].startswith("Saved")

        assert team.instances[served_by].stop() == 0
        other = next(name for name in NAMES if name != served_by)
        page = browser.get("/gradio/", follow_redirects=False)  # the next page load: no sign-in asked
        assert page.status_code == 200, (page.status_code, page.headers.get("location"))
        assert browser.cookies["INSTANCE"] == other
        assert call_event(browser, "load_notes", [])[0]["value"] == "kept through a failover"
    team.front.wait_until([other])


def test_saves_and_sign_ins_spread_over_both_instances_lose_nothing(team: Team, pg_url: str, tmp_path: Path) -> None:
    people = ("bob", "carol", "dave", "erin")
    store = open_store(make_settings(tmp_path / "admin", store=pg_url))
    for name in people:
        store.accounts.create(name, PASSWORD)
    store.close()
    failures: list[str] = []

    def person(name: str) -> None:
        try:
            pinned = {n: team.front.client(cookies={"INSTANCE": n}) for n in NAMES}
            assert sign_in(pinned["app1"], name).status_code == 303
            pinned["app2"].cookies.set("__Host-desktop-app-session", pinned["app1"].cookies["__Host-desktop-app-session"])
            for i in range(50):
                here, there = (pinned["app1"], pinned["app2"]) if i % 2 else (pinned["app2"], pinned["app1"])
                text = f"{name}'s save {i}"
                assert call_event(here, "save_notes", [text])[0].startswith("Saved")
                assert call_event(there, "load_notes", [])[0]["value"] == text  # read on the other instance
            for client in pinned.values():
                client.close()
        except Exception as exc:  # reported below, from the test's thread
            failures.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=person, args=(name,)) for name in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert failures == []

    # 20 sign-ins at once through the proxy, spread over both, at the product's
    # argon2 cost: each instance's memory stays capped (test_login_burst). Names of
    # their own, as a burst for one name is throttled by design, a right password too.
    before = {name: peak_rss_mib(app.proc.pid) for name, app in team.instances.items()}
    statuses: list[int] = []
    landed: list[str] = []

    def attempt(i: int) -> None:
        with team.front.client() as client:
            statuses.append(sign_in(client, f"nobody{i}", "wrong password").status_code)
            landed.append(client.cookies.get("INSTANCE", "?"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == [401] * 20 and set(landed) == set(NAMES), (statuses, landed)
    for name, app in team.instances.items():
        grew = peak_rss_mib(app.proc.pid) - before[name]
        print(f"{name}: peak RSS grew by {grew:.0f} MiB during 20 concurrent sign-ins over two instances")
        assert grew < 200, f"{name}'s peak memory grew by {grew:.0f} MiB"


@contextlib.contextmanager
def slow_instance(account: Path) -> Iterator[tuple[AppProcess, httpx.Client]]:
    """One instance whose UI has a 3 s event, and a browser signed in to it."""
    port = free_port()
    app = serve(account, "--public-url", f"http://127.0.0.1:{port}", "--ui", "tests.apps.slow_event_ui:build",
                port=port)
    base = f"http://127.0.0.1:{port}"
    try:
        app.wait_ready()
        wait_until_ready(app)
        with httpx.Client(base_url=base, timeout=30, headers={"origin": base}) as browser:
            assert sign_in(browser, "alice").status_code == 303
            yield app, browser
    finally:
        app.kill()


def wait_for_slow_event(app: AppProcess, state: str, timeout: float = 30) -> None:
    """Until the slow event has saved `state` (tests/apps/slow_event_ui.py): a
    sleep would guess how long starting it takes on a loaded machine."""
    assert app.data_dir is not None
    store = open_store(make_settings(app.data_dir))
    try:
        deadline = time.monotonic() + timeout
        while store.sessions.get_user_value("alice", "slow") != state:
            assert time.monotonic() < deadline, f"the slow event never said {state!r}: {app.log_tail()}"
            time.sleep(0.05)
    finally:
        store.close()


def test_sigterm_drains_the_event_in_flight_then_exits_0(account: Path) -> None:
    with slow_instance(account) as (app, browser):
        base = str(browser.base_url).rstrip("/")
        outcome: list[tuple[str, str]] = []
        event = threading.Thread(target=lambda: outcome.append(event_outcome(browser, "slow", [])))
        event.start()
        wait_for_slow_event(app, "started")  # it runs (3 s), its result stream open
        app.proc.send_signal(signal.SIGTERM)
        with httpx.Client(base_url=base, timeout=10) as proxy:  # the proxy's health check
            deadline = time.monotonic() + 2  # the event has ~3 s to run: the drain is still on then
            while (ready := proxy.get("/readyz").status_code) != 503 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert ready == 503 and not outcome, (ready, outcome)  # a 503 while the event still ran
        event.join(30)
        assert outcome == [("complete", '["finished"]')]
        assert app.proc.wait(30) == 0
    log = (account / "logs" / "desktop-app.log").read_text()
    assert re.search(r"draining: [1-9]\d* Gradio request", log) and "drained\n" in log, log[-2000:]


def test_sigterm_waits_for_an_event_whose_result_nobody_is_reading_yet(account: Path) -> None:
    """`call/` starts an event and returns; its result is fetched later. No request
    is open while it runs, and it still finishes before the process exits."""
    with slow_instance(account) as (app, browser):
        assert browser.post("/gradio/gradio_api/call/slow", json={"data": []}).status_code == 200
        app.proc.send_signal(signal.SIGTERM)
        assert app.proc.wait(60) == 0
    store = open_store(make_settings(account))
    try:
        assert store.sessions.get_user_value("alice", "slow") == "finished"
    finally:
        store.close()


def test_serve_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert_one_line_error(run_cli(*data, "serve"), "--public-url")
    assert_one_line_error(run_cli(*data, "serve", "--public-url", "https://tools.example.com/app"), "no path")
    assert_one_line_error(run_cli(*data, "serve", "--public-url", "ftp://x"), "http or https")
    assert_one_line_error(run_cli(*data, "serve", "--public-url", "https://x", "--bind", "everywhere"), "--bind")
    assert_one_line_error(run_cli(*data, "serve", "--public-url", "https://x", "--forwarded-allow-ips", "proxy"),
                          "--forwarded-allow-ips")
    # The window's own settings are not serve's; serve's are not the window's.
    assert run_cli(*data, "serve", "--public-url", "https://x", "--headless").returncode == 2
    assert run_cli(*data, "--public-url", "https://x").returncode == 2
    nowhere = "postgresql://someone:hunter2@127.0.0.1:1/none"
    r = run_cli(*data, "serve", "--public-url", "https://x", "--store", nowhere)
    assert_one_line_error(r, "Cannot reach the database")
    assert r.returncode == 1 and "hunter2" not in r.stderr


def test_the_nginx_reference_config_serves_the_app(account: Path) -> None:
    """deploy/nginx.conf in front of one instance: the browser's Host passed on
    (the instance refuses any other), TLS, and Gradio's event streams through."""
    front, port = free_port(), free_port()
    app = serve(account, "--public-url", public_url(front), "--forwarded-allow-ips", "127.0.0.1", port=port)
    proxy = None
    try:
        app.wait_ready()
        wait_until_ready(app)
        proxy = Nginx(front, [port])
        with proxy.client() as browser:
            assert sign_in(browser, "alice").status_code == 303
            assert "__Host-desktop-app-session" in browser.cookies
            assert browser.get("/gradio/config").json()["root"] == proxy.url + "/gradio"
            assert call_event(browser, "save_notes", ["through nginx"])[0].startswith("Saved")
            assert call_event(browser, "load_notes", [])[0]["value"] == "through nginx"
    finally:
        if proxy is not None:
            proxy.close()
        app.kill()
    # Its X-Forwarded-For is the client's address, which the instance believes from nginx.
    assert "sign-in ok: 'alice' from 127.0.0.1" in (account / "logs" / "desktop-app.log").read_text()
