"""End to end in a real browser (Debian's chromium driven by Playwright): first
run, the persisted Notes tab, a server restart, logout. Also proves the pages
fetch nothing from anywhere but our own server."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.helpers import PASSWORD, AppProcess

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    # Keep Chromium's own background traffic off, so every request we see is the page's.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        message = "Debian's chromium is needed: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_first_run_notes_survive_restart_then_logout(browser, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hosts: set[str] = set()
    context = browser.new_context(accept_downloads=True)
    context.on("request", lambda req: hosts.add(urlsplit(req.url).hostname or req.url))
    page = context.new_page()
    # Gradio must work under our Content-Security-Policy: the browser reports any violation here.
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_default_timeout(30_000)

    app = AppProcess(data_dir)
    try:
        launch = app.wait_ready()
        page.goto(app.url + "/login")  # without this launch's token: refused outright
        assert "Open it from the app's window" in page.content()
        page.goto(launch)
        page.wait_for_url("**/setup")
        assert "token" not in page.url  # the token left the address bar
        assert page.locator("h1").inner_text() == "Create your account"
        page.fill("#username", "Alice")
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD + "typo")
        page.click("button[type=submit]")
        assert "do not match" in page.locator(".error").inner_text()
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/gradio/")

        box = page.locator("#notes-box textarea")
        page.wait_for_selector("#notes-box textarea:not([disabled])")
        assert box.input_value() == ""
        box.fill("Buy milk. Call Bob.")
        page.click("#save-notes")
        page.wait_for_selector("#notes-status:has-text('Saved')")

        # A file the UI offers for download arrives whole (through the session-guarded file route).
        page.get_by_text("Export", exact=True).click()  # open the accordion
        page.click("#export-notes")
        link = page.locator("#notes-file a").first
        link.wait_for()
        with page.expect_download() as info:
            link.click()
        assert Path(info.value.path()).read_text() == "Buy milk. Call Bob."
        assert info.value.suggested_filename == "notes-alice.txt"
        assert app.stop(signal.SIGTERM) == 0
    finally:
        app.kill()

    app = AppProcess(data_dir)  # a new process, usually a new port: same store
    try:
        page.goto(app.wait_ready())  # this launch's URL; the session cookie is per host, not per port
        url = app.url
        page.wait_for_selector("#notes-box textarea:not([disabled])")
        assert urlsplit(page.url).path == "/gradio/", "the session did not survive the restart"
        assert page.locator("#notes-box textarea").input_value() == "Buy milk. Call Bob."
        page.get_by_role("tab", name="Account").click()
        page.wait_for_selector("#whoami:has-text('alice')")
        page.screenshot(path=str(tmp_path / "logged-in.png"))
        assert (tmp_path / "logged-in.png").stat().st_size > 5_000

        page.click("#logout")
        page.wait_for_url("**/login")
        page.goto(url + "/gradio/")
        page.wait_for_url("**/login?next=/gradio/")
        assert page.locator("h1").inner_text() == "Sign in"

        page.fill("#username", "alice")
        page.fill("#password", "wrong password")
        page.click("button[type=submit]")
        assert page.locator(".error").inner_text() == "Wrong username or password."
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/gradio/")
        assert app.stop(signal.SIGINT) == 0
    finally:
        app.kill()
        context.close()

    assert hosts == {"127.0.0.1"}, f"the pages fetched from elsewhere: {hosts}"
    assert violations == [], violations


XSS_PAYLOADS = [
    '<img src=x onerror="window.pwned=(window.pwned||[]).concat(\'img\')">',
    "<script>window.pwned=(window.pwned||[]).concat('script')</script>",
    '<svg onload="window.pwned=(window.pwned||[]).concat(\'svg\')"></svg>',
    '<iframe srcdoc="<script>parent.pwned=[\'iframe\']</script>"></iframe>',
    '<a id="js-link" href="javascript:window.pwned=[\'link\']">click</a>',
    "<img src=x onerror=\"fetch('/gradio/config').then(()=>window.stolen=document.cookie)\">",
]


def test_script_in_markdown_or_html_output_runs_nothing(browser, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.helpers import LiveServer, make_settings

    live = LiveServer(make_settings(data_dir, ui="tests.apps.xss_ui:build"))
    live.services.accounts.create("alice", PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(live.url + "/login")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/gradio/")
        for payload in XSS_PAYLOADS:
            page.fill("#payload textarea", payload + " marker")
            page.click("#render")
            page.wait_for_selector("#md-out:has-text('marker')")
            page.wait_for_timeout(300)  # an onerror/onload would have fired by now
            if page.locator("#js-link").count():
                page.locator("#js-link").first.click(force=True)
            assert page.evaluate("window.pwned") is None, (payload, page.evaluate("window.pwned"))
            assert page.evaluate("window.stolen") is None, payload
        # Even a script that did run could not read the session: the cookie is HttpOnly.
        assert "desktop-app-session" not in page.evaluate("document.cookie")
        assert any(c["name"] == "desktop-app-session" and c["httpOnly"] for c in context.cookies())
    finally:
        context.close()
        live.close()
