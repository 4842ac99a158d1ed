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
- the every-day launch: a returning person whose session is kept. One launch
  signs in with "Keep me signed in" ticked and closes the window; then each
  launch goes /_launch -> /login -> /gradio/ without showing the login page:
  process start -> loading screen on screen (as above: the build now starts
  beside it), -> Gradio UI on screen (its full-width Save button painted,
  disabled or not) and -> usable (the marker square), each launch followed by
  `import gradio` timed in a fresh interpreter (bytecode compiled), so both
  see the same load on the machine; and their ratio. At that moment, the CPU
  seconds each process of the app had used (the app, its GUI thread, WebKit's
  or Qt's helpers) and how busy the machine's cores were since launch.

Wall-clock times are compared with the time taken just before the process was
spawned. Every wait is bounded; every app process (and its webview helpers, in
its own process group) is stopped. Prints numbers; asserts nothing.

    .venv/bin/python bench/window_start.py [--runs 7]
    .venv/bin/python bench/window_start.py --webview qt      # Qt WebEngine instead of the default
    .venv/bin/python bench/window_start.py --kept-only --compare ../old  # kept launches alternating with ../old
    .venv/bin/python bench/window_start.py --command dist/desktop-app/desktop-app   # the frozen bundle
    (the frozen app cannot load the marker UI: no sign-in timing in its window,
    and of the kept-session launch only "-> Gradio UI visible")

`python -m desktop_app` finds the package in the current directory first, so
another checkout is measured from there (the script prints the package used):

    cd /other/checkout && /path/to/.venv/bin/python /path/to/bench/window_start.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import select
import shutil
import signal
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
sys.path.insert(0, str(BENCH_DIR.parent))  # run as a script from anywhere: the repo's tests package too
from tests.support.xdisplay import VirtualDisplay  # noqa: E402

LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
MILESTONES = (("page1", "page 1 loaded in the window"), ("page2", "page 2 loaded in the window"),
              ("build", "Gradio build started"), ("gradio", "Gradio UI ready"))

# How to start the app: `python -m desktop_app`, or --command (the frozen bundle, say).
COMMAND = [sys.executable, "-m", "desktop_app"]
WINDOW_FLAGS: list[str] = []  # --webview, when given
# An installed app has its bytecode compiled (pip does it at install, the frozen
# app carries it); where PYTHONDONTWRITEBYTECODE is set (this sandbox sets it),
# our modules would be compiled again at every start (~0.03 s). Not counted.
APP_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def read_line(stream, what: str, timeout: float = 60) -> str:  # type: ignore[no-untyped-def]
    """The next line of a child's output, or an error past `timeout`."""
    if not select.select([stream], [], [], timeout)[0]:
        raise RuntimeError(f"timed out waiting for {what}")
    return stream.readline()


def start_app(args: list[str], env: dict[str, str], stdout=subprocess.DEVNULL,  # type: ignore[no-untyped-def]
              cwd: Path | None = None) -> subprocess.Popen:
    # Its own process group: the webview's helper processes (WebKit's, Qt's) are in
    # it too, so stop_app can find any of them that outlive the app. `cwd`: which
    # checkout `-m desktop_app` finds (--compare).
    return subprocess.Popen([*COMMAND, *args], stdout=stdout, stderr=subprocess.DEVNULL, text=True, env=env,
                            start_new_session=True, cwd=cwd)


def stop_app(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM (the app closes its window and stops cleanly), SIGKILL past
    `timeout`; then a few seconds for its helpers to end on their own (WebKit's
    network process may still be writing cookies), and SIGKILL for the rest."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            os.killpg(proc.pid, 0)  # raises once nobody is left in the group
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


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
        subprocess.run(["xdotool", *args], check=True, env={**os.environ, "DISPLAY": self.name}, timeout=30)

    def close(self, window) -> None:  # type: ignore[no-untyped-def]
        """WM_DELETE_WINDOW, what a window manager sends for the close button
        (as tests/xdisplay.py does: there is no window manager under Xvfb)."""
        from Xlib import protocol

        event = protocol.event.ClientMessage(
            window=window, client_type=self.display.intern_atom("WM_PROTOCOLS"),
            data=(32, [self.display.intern_atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]))
        window.send_event(event, event_mask=X.NoEventMask)
        self.display.sync()


def orange(rgb: np.ndarray) -> int:
    """Pixels of our accent, #ea580c: the loading spinner's arc."""
    r, g, b = (rgb[:, :, i].astype(int) for i in range(3))
    return int(((r > 200) & (g > 60) & (g < 150) & (b < 70)).sum())


def magenta(rgb: np.ndarray) -> int:
    r, g, b = (rgb[:, :, i].astype(int) for i in range(3))
    return int(((r > 240) & (g < 30) & (b > 240)).sum())


def warm(rgb: np.ndarray) -> np.ndarray:
    """Gradio's primary button, enabled (#f97316-ish) or disabled (its pale tint)."""
    r, g, b = (rgb[:, :, i].astype(int) for i in range(3))
    return (r > 200) & (g < 200) & (r - b > 45)


def gradio_ui_shown(screen: Screen, window, width: int, height: int) -> bool:  # type: ignore[no-untyped-def]
    """The demo's full-width Save button is painted: >= 20 rows warm at both 1/8
    and 7/8 of the width (our login button is narrow, the spinners are small and
    centred). Two one-pixel columns: cheap enough to poll often."""
    left = warm(screen.rgb(window, width // 8, 0, 1, height))[:, 0]
    right = warm(screen.rgb(window, width - 1 - width // 8, 0, 1, height))[:, 0]
    return int((left & right).sum()) >= 20


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(path: str) -> tuple[str, list[str]] | None:
    """A /proc stat file's command name and the fields after it, or None if gone."""
    try:
        raw = Path(path).read_text()
    except OSError:
        return None
    return raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()


def _cpu_seconds(fields: list[str]) -> float:
    """utime + stime (fields 14 and 15 of a stat file) in seconds."""
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_so_far(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process of the app's
    process group (start_app makes it its own), by name: "app" is the app
    itself, "app main thread" its GUI thread, the rest WebKit's (or Qt's)
    helpers. Linux /proc; empty elsewhere."""
    used: dict[str, float] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        stat = _stat_fields(f"{entry}/stat") if entry.name.isdigit() else None
        if stat is None or int(stat[1][2]) != pid:  # field 5: the process group
            continue
        name = "app" if int(entry.name) == pid else stat[0]
        used[name] = used.get(name, 0.0) + _cpu_seconds(stat[1])
    main = _stat_fields(f"/proc/{pid}/task/{pid}/stat")
    if main is not None:
        used["app main thread"] = _cpu_seconds(main[1])
    return used


def machine_busy() -> tuple[int, int]:
    """(all, idle) clock ticks of every core since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


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


def type_credentials(screen: Screen, window, *, remember: bool = False) -> None:  # type: ignore[no-untyped-def]
    screen.xdotool("windowfocus", "--sync", str(window.id))
    screen.xdotool("type", "--delay", "10", USERNAME)
    screen.xdotool("key", "Tab")
    screen.xdotool("type", "--delay", "10", PASSWORD)
    if remember:  # "Keep me signed in" (unticked on the login page, ticked on the first-run page)
        screen.xdotool("key", "Tab", "space")


def sign_in_by_typing(screen: Screen, window, corner: tuple[int, int, int, int]) -> float:  # type: ignore[no-untyped-def]
    """Type the credentials, press Return; seconds until the marker square is on screen."""
    type_credentials(screen, window)
    t_submit = time.time()
    screen.xdotool("key", "Return")
    wait_until("the usable UI", lambda: magenta(screen.rgb(window, *corner)) > 1000, pause=0.002)
    return time.time() - t_submit


TIMELINE_STEPS = ("signed_in", "page", "modules", "events_out", "answers", "usable")


def page_timelines(data_dir: Path, run: int | str) -> list[dict[str, float]]:
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


def app_env(screen: Screen, run: int | str, *, sign_out: bool) -> dict[str, str]:
    return {**APP_ENV, "DISPLAY": screen.name, "PYTHONPATH": str(BENCH_DIR),
            "MARKER_SIGN_OUT": "1" if sign_out else "0", "MARKER_RUN": str(run)}


def launch_in_window(data_dir: Path, screen: Screen, run: int | str, *, sign_out: bool,
                     marker: bool, cwd: Path | None = None) -> tuple[Path, float, subprocess.Popen]:
    """Start the app on `screen` with a fresh log (its timestamps are read);
    returns the log, the launch time and the process."""
    log = data_dir / "logs" / "desktop-app.log"
    log.unlink(missing_ok=True)
    env = app_env(screen, run, sign_out=sign_out)
    extra = [*WINDOW_FLAGS, *(["--ui", "marker_ui:build"] if marker else [])]
    t0 = time.time()
    return log, t0, start_app(["--data-dir", str(data_dir), *extra], env, cwd=cwd)


def window_run(data_dir: Path, screen: Screen, *, sign_in: bool, linger: float = 0.0,
               run: int = 0) -> dict[str, float]:
    """One launch; `linger`: seconds to stay open at the end (WebKit writes its
    disk cache a moment after a page loads: a person's session, not a benchmark's
    instant close, is what leaves it filled)."""
    log, t0, proc = launch_in_window(data_dir, screen, run, sign_out=True, marker=sign_in)
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
        stop_app(proc)
    if sign_in:  # written by the page; on disk once the app has exited
        for label, timeline in zip(("cold", "warm"), page_timelines(data_dir, run), strict=False):
            result.update({f"{label}.{step}": timeline[step] / 1000 for step in TIMELINE_STEPS})
    return result


def keep_me_signed_in(data_dir: Path, screen: Screen, *, marker: bool) -> None:
    """A launch that signs in with "Keep me signed in" ticked, stays a moment
    (WebKit writes its caches and cookies a moment after), and is closed with
    the window's close button, as a person does (Qt writes its cookies then)."""
    log = data_dir / "logs" / "desktop-app.log"
    log.unlink(missing_ok=True)
    env = app_env(screen, "keep", sign_out=False)
    proc = start_app(["--data-dir", str(data_dir), *WINDOW_FLAGS, *(["--ui", "marker_ui:build"] if marker else [])],
                     env)
    try:
        window = wait_until("the window", lambda: screen.window_of(proc.pid))
        g = window.get_geometry()
        wait_until("the login page", lambda: "page2" in log_times(log, 0), pause=0.05)
        type_credentials(screen, window, remember=True)
        screen.xdotool("key", "Return")
        if marker:
            wait_until("the usable UI", lambda: magenta(screen.rgb(window, 0, 0, 48, 48)) > 1000, pause=0.05)
        else:
            wait_until("the Gradio UI", lambda: gradio_ui_shown(screen, window, g.width, g.height), pause=0.05)
        time.sleep(3)
        screen.close(window)
        proc.wait(30)
    finally:
        stop_app(proc)


def kept_session_run(data_dir: Path, screen: Screen, *, marker: bool, run: int | str,
                     cwd: Path | None = None) -> dict[str, float]:
    """One launch of a returning person: straight to the UI, no login page."""
    # No sign-out: it would end the kept session.
    busy_before = machine_busy() if Path("/proc/stat").exists() else None
    log, t0, proc = launch_in_window(data_dir, screen, f"kept{run}", sign_out=False, marker=marker, cwd=cwd)
    result: dict[str, float] = {}
    try:
        window = wait_until("the window", lambda: screen.window_of(proc.pid))
        g = window.get_geometry()
        box = (max(0, g.width // 2 - 120), max(0, g.height // 2 - 160), 240, 240)  # as in window_run
        wait_until("the spinner", lambda: orange(screen.rgb(window, *box)) > 20)
        result["loading"] = time.time() - t0
        # A login page instead (the session was not kept) never shows the Save button: a timeout.
        wait_until("the Gradio UI (no kept session?)",
                   lambda: gradio_ui_shown(screen, window, g.width, g.height), pause=0.01)
        result["visible"] = time.time() - t0
        if marker:
            wait_until("the usable UI", lambda: magenta(screen.rgb(window, 0, 0, 48, 48)) > 1000, pause=0.002)
            result["usable"] = time.time() - t0
        # Where the CPU went by then: the app's threads, WebKit's processes, and how
        # busy both cores were (the bench's own polling and Xvfb included).
        result.update({f"cpu.{name}": seconds for name, seconds in cpu_so_far(proc.pid).items()})
        if busy_before is not None:
            (all_now, idle_now), (all_then, idle_then) = machine_busy(), busy_before
            result["cpu.machine busy"] = 1 - (idle_now - idle_then) / max(1, all_now - all_then)
        result.update({f"log.{k}": v for k, v in log_times(log, t0).items()})
    finally:
        stop_app(proc)
    for timeline in page_timelines(data_dir, f"kept{run}")[:1]:
        result.update({f"page.{step}": timeline[step] / 1000 for step in TIMELINE_STEPS})
    return result


def import_gradio_seconds() -> float:
    """`import gradio` in a fresh interpreter, with bytecode (see APP_ENV)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True, capture_output=True, env=APP_ENV,
                   timeout=120)
    return time.perf_counter() - t0


def package_used(cwd: Path | None = None) -> str:
    """Where `-m desktop_app` finds the package from here (the current directory
    comes first on sys.path, before an editable install), as the app's child sees it."""
    out = subprocess.run([sys.executable, "-c", "import desktop_app; print(desktop_app.__file__)"], cwd=cwd,
                         capture_output=True, text=True, env={**APP_ENV, "PYTHONPATH": str(BENCH_DIR)}, timeout=60)
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


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

    proc = start_app(["--headless", "--data-dir", str(data_dir)], APP_ENV, stdout=subprocess.PIPE)
    times = []
    try:
        launch = read_line(proc.stdout, "READY").split()[1]
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
        stop_app(proc)
    return times


def compare_checkouts(checkouts: list[Path], data_dir: Path, screen: Screen, runs: int) -> None:
    """Kept-session launches alternating between checkouts (in a new random
    order each round) on one data dir, so each sees the same store, web cache
    and moment of the machine: this machine's speed drifts by tens of percent
    within an hour, more than the changes being compared."""
    import random

    for checkout in checkouts:  # each compiles its bytecode and fills its caches; not counted
        print(f"{checkout}: desktop_app from {package_used(checkout)}")
        kept_session_run(data_dir, screen, marker=True, run="warm", cwd=checkout)
    kept: dict[Path, list[dict[str, float]]] = {c: [] for c in checkouts}
    imports = []
    for i in range(runs):
        for checkout in random.sample(checkouts, len(checkouts)):
            kept[checkout].append(kept_session_run(data_dir, screen, marker=True, run=i + 1, cwd=checkout))
        imports.append(import_gradio_seconds())
    print(f"kept session, launches alternating between {len(checkouts)} checkouts (n={runs} each):")
    print_row("import gradio (python -c)", imports)
    for checkout, results in kept.items():
        print(f"{checkout}:")
        print_row("  launch -> loading screen", [r["loading"] for r in results])
        print_row("  launch -> UI usable", [r["usable"] for r in results])
        print(f"  {'usable / import gradio':32s} {statistics.median(r['usable'] for r in results) / statistics.median(imports):.2f}")
        print_cpu(results, "usable")


def print_cpu(runs: list[dict[str, float]], moment: str) -> None:
    """The CPU seconds each process had used when the UI was `moment` (medians)."""
    names = sorted({k for r in runs for k in r if k.startswith("cpu.") and k != "cpu.machine busy"},
                   key=lambda k: -statistics.median(r.get(k, 0.0) for r in runs))
    if not names:
        return
    parts = [f"{k[4:]} {statistics.median(r.get(k, 0.0) for r in runs):.2f}" for k in names]
    busy = [r["cpu.machine busy"] for r in runs if "cpu.machine busy" in r]
    print(f"  CPU s used by UI {moment} (medians): " + ", ".join(parts)
          + (f"; all cores {100 * statistics.median(busy):.0f} % busy since launch" if busy else ""))


def print_row(label: str, values: list[float]) -> None:
    print(f"{label:34s} median {statistics.median(values):6.3f} s   "
          f"min {min(values):.3f}  max {max(values):.3f}  (n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--command", help="the app's executable (default: this Python's -m desktop_app)")
    parser.add_argument("--webview", choices=("gtk", "qt"), help="the app's --webview (default: its own choice)")
    parser.add_argument("--kept-only", action="store_true",
                        help="only the kept-session launch (the every-day path), e.g. to compare two checkouts")
    parser.add_argument("--compare", nargs="+", type=Path, metavar="CHECKOUT",
                        help="with --kept-only: alternate each launch between this checkout and these")
    args = parser.parse_args()
    if args.compare and (not args.kept_only or args.command):
        parser.error("--compare goes with --kept-only, without --command")
    if args.command:
        COMMAND[:] = [args.command]
    if args.webview:
        WINDOW_FLAGS[:] = ["--webview", args.webview]
    sign_in = not args.command  # the marker UI is importable only by an unfrozen app
    print(" ".join(COMMAND))
    if not args.command:
        print(f"desktop_app from {package_used()}")
    xvfb = VirtualDisplay()  # the tests' own Xvfb (tests/support/xdisplay.py)
    try:
        screen = Screen(xvfb.name)
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            subprocess.run([*COMMAND, "users", "add", USERNAME, "--password-stdin", "--data-dir", str(data_dir)],
                           input=PASSWORD + "\n", text=True, check=True, capture_output=True, timeout=120)
            window_run(data_dir, screen, sign_in=sign_in, linger=3)  # warms the file and web caches; not counted
            first_runs = 0 if args.kept_only else args.runs
            results = [window_run(data_dir, screen, sign_in=sign_in, run=i + 1) for i in range(first_runs)]
            chromium = chromium_sign_ins(data_dir, first_runs) if first_runs else []
            keep_me_signed_in(data_dir, screen, marker=sign_in)
            import_gradio_seconds()  # compiles what is not yet; not counted
            if args.compare:
                return compare_checkouts([Path.cwd(), *args.compare], data_dir, screen, args.runs)
            kept, imports = [], []
            for i in range(args.runs):  # interleaved: both see the same load on the machine
                kept.append(kept_session_run(data_dir, screen, marker=sign_in, run=i + 1))
                imports.append(import_gradio_seconds())
    finally:
        xvfb.close()
    rows = [] if args.kept_only else [("start -> loading screen on screen", [r["visible"] for r in results]),
            ("start -> loading screen loaded", [r["loading"] for r in results]),
            ("start -> login page loaded", [r["login"] for r in results])]
    if sign_in and results:
        rows.append(("sign-in -> UI usable (window)", [r["usable"] for r in results]))
        rows.append(("again, same window", [r["again"] for r in results]))
    if chromium:
        rows.append(("sign-in -> UI usable (Chromium)", chromium))
    for label, values in rows:
        print_row(label, values)
    timed = [r for r in results if "cold.usable" in r]
    if timed:
        print(f"inside the page, from submit (medians, n={len(timed)}): " + ", ".join(TIMELINE_STEPS))
        for label in ("cold", "warm"):
            steps = [statistics.median(r[f"{label}.{step}"] for r in timed) for step in TIMELINE_STEPS]
            print(f"  {label} ({'first sign-in' if label == 'cold' else 'again, same window'}): "
                  + "  ".join(f"{v:.3f}" for v in steps))
    print(f"kept session (\"Keep me signed in\"), each launch beside `import gradio` (n={len(kept)}):")
    print_row("launch -> loading screen on screen", [r["loading"] for r in kept])
    print_row("launch -> Gradio UI visible", [r["visible"] for r in kept])
    if sign_in:
        print_row("launch -> UI usable", [r["usable"] for r in kept])
    print_row("import gradio (python -c)", imports)
    key = "usable" if sign_in else "visible"
    ratio = statistics.median(r[key] for r in kept) / statistics.median(imports)
    print(f"{f'kept {key} / import gradio':34s} {ratio:.2f}")
    logged = [(label, [r[f"log.{key}"] for r in kept if f"log.{key}" in r]) for label, key in (
        ("loading screen loaded", "page1"), ("Gradio build started", "build"), ("Gradio UI ready", "gradio"),
        ("Gradio page loaded", "page2"))]
    print("  from the app's log, launch -> (medians): " + ", ".join(
        f"{label} {statistics.median(values):.3f}" for label, values in logged if values))
    print_cpu(kept, key)
    timed = [r for r in kept if "page.usable" in r]
    if timed:
        print(f"  inside the page, from the navigation to /_launch (medians, n={len(timed)}): "
              + "  ".join(f"{step} {statistics.median(r[f'page.{step}'] for r in timed):.3f}"
                          for step in TIMELINE_STEPS))


if __name__ == "__main__":
    main()
