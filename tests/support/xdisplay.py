"""A real X display for window tests: Xvfb, screenshots, typing, closing.

Closing sends WM_DELETE_WINDOW, exactly what a window manager sends when the
person clicks the close button (there is no window manager under Xvfb).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable

from PIL import Image, ImageGrab

SCREEN = (1280, 800)


class VirtualDisplay:
    def __init__(self) -> None:
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise RuntimeError("Xvfb is needed: apt-get install xvfb")
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()  # Xvfb writes the display number once it accepts clients
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.name = f":{number}"

    def app_env(self) -> dict[str, str | None]:
        """What a process needs to use this display, over its own environment."""
        return {"DISPLAY": self.name, "WAYLAND_DISPLAY": None}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
        env["DISPLAY"] = self.name
        return env

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(["xdotool", *args], capture_output=True, text=True, env=self.env(), timeout=30)
        return out.stdout.strip()

    def find_window(self, pid: int, timeout: float = 30, unless_exited: subprocess.Popen | None = None) -> int:
        """The window's id; AssertionError past `timeout`, or at once if the
        `unless_exited` process has ended (it will show no window)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = self.xdotool("search", "--onlyvisible", "--pid", str(pid)).split()
            if ids:
                return int(ids[-1])
            if unless_exited is not None and unless_exited.poll() is not None:
                raise AssertionError(f"pid {pid} exited ({unless_exited.returncode}) without a window")
            time.sleep(0.1)
        raise AssertionError(f"no visible window of pid {pid}")

    def type_text(self, window: int, text: str) -> None:
        self.xdotool("windowfocus", "--sync", str(window))
        self.xdotool("type", "--delay", "15", text)

    def key(self, *keys: str) -> None:
        self.xdotool("key", *keys)

    def close_window(self, window: int) -> None:
        from Xlib import X, display, protocol

        d = display.Display(self.name)
        try:
            w = d.create_resource_object("window", window)
            protocols = d.intern_atom("WM_PROTOCOLS")
            delete = d.intern_atom("WM_DELETE_WINDOW")
            event = protocol.event.ClientMessage(window=w, client_type=protocols,
                                                 data=(32, [delete, X.CurrentTime, 0, 0, 0]))
            w.send_event(event, event_mask=X.NoEventMask)
            d.sync()  # a round trip: the server has the event before we disconnect
        finally:
            d.close()

    def geometry(self, window: int) -> tuple[int, int]:
        out = self.xdotool("getwindowgeometry", str(window))
        size = out.split("Geometry:")[1].strip().split("x")
        return int(size[0]), int(size[1])

    def screenshot(self) -> Image.Image:
        return ImageGrab.grab(xdisplay=self.name)

    def wait_for(self, predicate: Callable[[Image.Image], bool], timeout: float = 30) -> Image.Image:
        deadline = time.monotonic() + timeout
        while True:
            shot = self.screenshot()
            if predicate(shot):
                return shot
            if time.monotonic() > deadline:
                raise AssertionError("the screen never showed what was expected")
            time.sleep(0.2)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def widest_run(image: Image.Image, match: Callable[[tuple[int, int, int]], bool], step: int = 3) -> int:
    """The longest horizontal run of matching pixels (every `step`-th row)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    pixels = rgb.load()
    best = 0
    for y in range(0, height, step):
        run = 0
        for x in range(width):
            if match(pixels[x, y]):
                run += 1
                best = max(best, run)
            else:
                run = 0
    return best


def count(image: Image.Image, match: Callable[[tuple[int, int, int]], bool]) -> int:
    return sum(n for n, color in image.convert("RGB").getcolors(maxcolors=1 << 24) or [] if match(color))


def is_orange(p: tuple[int, int, int]) -> bool:
    # The accent of both our login button (#ea580c) and Gradio's primary button (#f97316).
    r, g, b = p
    return r > 200 and 60 < g < 150 and b < 70


def is_error_red(p: tuple[int, int, int]) -> bool:
    r, g, b = p
    return r > 120 and g < 60 and b < 60


def login_page_shown(shot: Image.Image) -> bool:
    return 200 < widest_run(shot, is_orange) < 500  # the narrow "Sign in" button


def app_ui_shown(shot: Image.Image) -> bool:
    return widest_run(shot, is_orange) > 600  # Gradio's full-width "Save" button
