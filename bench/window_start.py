"""Desktop start benchmark, in the real window under Xvfb (started here):

- process start -> loading screen on screen (its spinner's pixels, read off the display)
- process start -> loading screen loaded (pywebview's `loaded` event, from the log;
  it also waits for pywebview's script injection, so it is not the same moment)
- process start -> login page loaded (the same event for the second page)
- sign-in in the window -> Gradio UI usable: the password typed with xdotool,
  Return pressed, until the Notes box is enabled (the saved text arrived). The
  UI is the demo plus a marker (bench/marker_ui.py) that paints a magenta square
  at that moment; the square is watched on the screen. Gradio is imported first
  (a person takes longer than that to type a password).
- the same again in the same window: the marker page signs out and the bench
  signs in once more (the web process has run Gradio's scripts once: its
  caches are warm), as a person does who signs out and back in.
- for both window sign-ins (WebKitGTK), the page's own timeline from the submit:
  signed in (redirect done), page loaded, Gradio's scripts and styles in, the
  `demo.load` events sent, their answers in, usable (see bench/marker_ui.py).
- the same in headless Chromium, timed inside the page: from the form's submit
  event to the Notes box enabled.

Wall-clock times are compared with the time taken just before the process was
spawned. Prints numbers; asserts nothing.

    .venv/bin/python bench/window_start.py [--runs 7]
    .venv/bin/python bench/window_start.py --webview qt      # Qt WebEngine instead of the default
    .venv/bin/python bench/window_start.py --command dist/desktop-app/desktop-app   # the frozen bundle
    (the frozen app cannot load the marker UI: no sign-in timing in its window)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from Xlib import X, display

USERNAME, PASSWORD = "bench", "benchmark password"
BENCH_DIR = Path(__file__).resolve().parent
LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
MILESTONES = (("page1", "page 1 loaded in the window"), ("page2", "page 2 loaded in the window"),
              ("gradio", "Gradio UI ready"))

# How to start the app: `python -m desktop_app`, or --command (the frozen bundle, say).
COMMAND = [sys.executable, "-m", "desktop_app"]
WINDOW_FLAGS: list[str] = []  # --webview, when given
# An installed app has its bytecode compiled (pip does it at install, the frozen
# app carries it); where PYTHONDONTWRITEBYTECODE is set (this sandbox sets it),
# our modules would be compiled again at every start (~0.03 s). Not counted.
APP_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def start_xvfb() -> tuple[subprocess.Popen, str]:
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        return proc, ":" + f.readline().strip()


class Screen:
    """Reads pixels of one process's window straight off the X server."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.display = display.Display(name)
        self.root = self.display.screen().root
        self.pid_atom = self.display.intern_atom("_NET_WM_PID")

    def window_of(self, pid: int):  # type: ignore[no-untyped-def]
        """The process's biggest mapped top-level window, or None yet."""
        best, best_area = None, 0
        for w in self.root.query_tree().children:
            try:
                prop = w.get_full_property(self.pid_atom, X.AnyPropertyType)
                if not prop or prop.value[0] != pid or w.get_attributes().map_state != X.IsViewable:
                    continue
                g = w.get_geometry()
            except Exception:  # gone meanwhile
                continue
            if g.width * g.height > best_area:
                best, best_area = w, g.width * g.height
        return best

    def rgb(self, window, x: int, y: int, width: int, height: int) -> np.ndarray:  # type: ignore[no-untyped-def]
        image = window.get_image(x, y, width, height, X.ZPixmap, 0xFFFFFFFF)
        bgrx = np.frombuffer(image.data, dtype=np.uint8).reshape(height, width, 4)
        return bgrx[:, :, 2::-1]

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], check=True, env={**os.environ, "DISPLAY": self.name})


def orange(rgb: np.ndarray) -> int:
    """Pixels of our accent, #ea580c: the loading spinner's arc."""
    r, g, b = (rgb[:, :, i].astype(int) for i in range(3))
    return int(((r > 200) & (g > 60) & (g < 150) & (b < 70)).sum())


def magenta(rgb: np.ndarray) -> int:
    r, g, b = (rgb[:, :, i].astype(int) for i in range(3))
    return int(((r > 240) & (g < 30) & (b > 240)).sum())


def log_times(log: Path, t0: float) -> dict[str, float]:
    """The first time each milestone appears in the app's log, relative to t0."""
    found: dict[str, float] = {}
    if not log.exists():
        return found
    for line in log.read_text().splitlines():
        for key, needle in MILESTONES:
            m = LOG_STAMP.match(line) if needle in line and key not in found else None
            if m:
                found[key] = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() - t0
    return found


def wait_until(what: str, predicate, timeout: float = 60, pause: float = 0.005):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(pause)
    raise RuntimeError(f"timed out waiting for {what}")


def sign_in_by_typing(screen: Screen, window, corner: tuple[int, int, int, int]) -> float:  # type: ignore[no-untyped-def]
    """Type the credentials, press Return; seconds until the marker square is on screen."""
    screen.xdotool("windowfocus", "--sync", str(window.id))
    screen.xdotool("type", "--delay", "10", USERNAME)
    screen.xdotool("key", "Tab")
    screen.xdotool("type", "--delay", "10", PASSWORD)
    t_submit = time.time()
    screen.xdotool("key", "Return")
    wait_until("the usable UI", lambda: magenta(screen.rgb(window, *corner)) > 1000, pause=0.002)
    return time.time() - t_submit


TIMELINE_STEPS = ("signed_in", "page", "modules", "events_out", "answers", "usable")


def page_timelines(data_dir: Path, run: int) -> list[dict[str, float]]:
    """What the marker page noted in localStorage at each sign-in of this run
    (WebKitGTK keeps it in SQLite, UTF-16 values; Qt's LevelDB is not read)."""
    for db in (data_dir / "webview" / "localstorage").glob("*.localstorage"):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM ItemTable WHERE key = ?", (f"bench-timeline-{run}",)).fetchone()
        except sqlite3.Error:
            row = None
        finally:
            conn.close()
        if row:
            return json.loads(bytes(row[0]).decode("utf-16-le"))
    return []


def window_run(data_dir: Path, screen: Screen, *, sign_in: bool, linger: float = 0.0,
               run: int = 0) -> dict[str, float]:
    """One launch; `linger`: seconds to stay open at the end (WebKit writes its
    disk cache a moment after a page loads: a person's session, not a benchmark's
    instant close, is what leaves it filled)."""
    log = data_dir / "logs" / "desktop-app.log"
    log.unlink(missing_ok=True)
    env = {**APP_ENV, "DISPLAY": screen.name, "PYTHONPATH": str(BENCH_DIR), "MARKER_SIGN_OUT": "1",
           "MARKER_RUN": str(run)}
    extra = [*WINDOW_FLAGS, *(["--ui", "marker_ui:build"] if sign_in else [])]
    t0 = time.time()
    proc = subprocess.Popen([*COMMAND, "--data-dir", str(data_dir), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    result: dict[str, float] = {}
    try:
        window = wait_until("the window", lambda: screen.window_of(proc.pid))
        g = window.get_geometry()
        # The spinner sits just above the middle of the window.
        box = (max(0, g.width // 2 - 120), max(0, g.height // 2 - 160), 240, 240)
        wait_until("the spinner", lambda: orange(screen.rgb(window, *box)) > 20)
        result["visible"] = time.time() - t0
        # The times come from the log's own timestamps, so a slow poll loses nothing and
        # takes less CPU from the app being measured.
        times = wait_until("the login page", lambda: (t := log_times(log, t0)) and "page2" in t and t, pause=0.05)
        result.update(loading=times["page1"], login=times["page2"])
        if sign_in:
            wait_until("Gradio's import", lambda: "gradio" in log_times(log, t0), pause=0.05)
            corner = (0, 0, 48, 48)
            result["usable"] = sign_in_by_typing(screen, window, corner)
            # The marker page signs out by itself (MARKER_SIGN_OUT): the login page again.
            wait_until("the login page again", lambda: magenta(screen.rgb(window, *corner)) < 10, pause=0.01)
            time.sleep(1.0)  # the page loaded and idle, as when a person starts typing
            result["again"] = sign_in_by_typing(screen, window, corner)
        time.sleep(linger)
    finally:
        proc.terminate()
        proc.wait(30)
    if sign_in:  # written by the page; on disk once the app has exited
        for label, timeline in zip(("cold", "warm"), page_timelines(data_dir, run)):
            result.update({f"{label}.{step}": timeline[step] / 1000 for step in TIMELINE_STEPS})
    return result


# In every page of the browser context: the login page notes its submit time,
# the Gradio page notes when the Notes box becomes enabled.
CHROMIUM_TIMER = """
if (location.pathname === '/login') {
  document.addEventListener('submit', () => sessionStorage.setItem('submitAt', String(performance.timeOrigin + performance.now())), true);
} else {
  const ready = () => document.querySelector('#notes-box textarea:not([disabled])');
  const watch = new MutationObserver(() => {
    if (window.usableAt === undefined && ready()) { window.usableAt = performance.timeOrigin + performance.now(); watch.disconnect(); }
  });
  watch.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['disabled']});
}
"""


def chromium_sign_ins(data_dir: Path, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    proc = subprocess.Popen([*COMMAND, "--headless", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=APP_ENV)
    launch = proc.stdout.readline().split()[1]  # type: ignore[union-attr]
    times = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            context = browser.new_context()
            context.add_init_script(CHROMIUM_TIMER)
            page = context.new_page()
            for i in range(runs + 1):  # the first one waits for Gradio and fills the cache: not counted
                context.clear_cookies()
                page.goto(launch)  # a fresh browser: the token first, then the login page
                page.fill("#username", USERNAME)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_function("window.usableAt !== undefined", timeout=60_000)
                if i:
                    times.append(page.evaluate("(window.usableAt - Number(sessionStorage.getItem('submitAt'))) / 1000"))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--command", help="the app's executable (default: this Python's -m desktop_app)")
    parser.add_argument("--webview", choices=("gtk", "qt"), help="the app's --webview (default: its own choice)")
    args = parser.parse_args()
    if args.command:
        COMMAND[:] = [args.command]
    if args.webview:
        WINDOW_FLAGS[:] = ["--webview", args.webview]
    sign_in = not args.command  # the marker UI is importable only by an unfrozen app
    print(" ".join(COMMAND))
    xvfb, name = start_xvfb()
    try:
        screen = Screen(name)
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            subprocess.run([*COMMAND, "users", "add", USERNAME, "--password-stdin", "--data-dir", str(data_dir)],
                           input=PASSWORD + "\n", text=True, check=True, capture_output=True)
            window_run(data_dir, screen, sign_in=sign_in, linger=3)  # warms the file and web caches; not counted
            results = [window_run(data_dir, screen, sign_in=sign_in, run=i + 1) for i in range(args.runs)]
            chromium = chromium_sign_ins(data_dir, args.runs)
    finally:
        xvfb.terminate()
    rows = [("start -> loading screen on screen", [r["visible"] for r in results]),
            ("start -> loading screen loaded", [r["loading"] for r in results]),
            ("start -> login page loaded", [r["login"] for r in results])]
    if sign_in:
        rows.append(("sign-in -> UI usable (window)", [r["usable"] for r in results]))
        rows.append(("again, same window", [r["again"] for r in results]))
    rows.append(("sign-in -> UI usable (Chromium)", chromium))
    for label, values in rows:
        print(f"{label:34s} median {statistics.median(values):6.3f} s   "
              f"min {min(values):.3f}  max {max(values):.3f}  (n={len(values)})")
    timed = [r for r in results if "cold.usable" in r]
    if timed:
        print(f"inside the page, from submit (medians, n={len(timed)}): " + ", ".join(TIMELINE_STEPS))
        for label in ("cold", "warm"):
            steps = [statistics.median(r[f"{label}.{step}"] for r in timed) for step in TIMELINE_STEPS]
            print(f"  {label} ({'first sign-in' if label == 'cold' else 'again, same window'}): "
                  + "  ".join(f"{v:.3f}" for v in steps))


if __name__ == "__main__":
    main()
