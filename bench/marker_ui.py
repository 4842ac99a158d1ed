"""The demo UI plus a marker, for bench/window_start.py: once the Notes box is
enabled (its saved text has arrived: the UI is usable), a magenta square is
drawn in the window's top-left corner, where the benchmark watches the screen.

The marker is JavaScript run by Gradio's own `js=` hook (allowed by the CSP),
so the page measured is the demo's, unchanged but for the square.

With MARKER_SIGN_OUT=1 in the environment, the page also signs out 1.5 s after
the square appears and goes back to the login page, so that a second sign-in
can be timed in the same window (the same web process, its caches warm).

At the same moment the page notes its own timeline (Navigation and Resource
Timing, in ms from the submit that started the navigation) in localStorage,
under `bench-timeline-<MARKER_RUN>`, a list with one entry per sign-in; the
benchmark reads it from WebKit's storage on disk after the app has exited.

    desktop-app --ui marker_ui:build     # with bench/ on PYTHONPATH
"""

from __future__ import annotations

import os

MARKER_JS = """() => {
  const ready = () => document.querySelector('#notes-box textarea:not([disabled])');
  const mark = () => {
    const square = document.createElement('div');
    square.style.cssText = 'position:fixed;left:0;top:0;width:48px;height:48px;background:#ff00ff;z-index:2147483647';
    document.body.append(square);
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const end = (list) => Math.max(0, ...list.map(r => r.responseEnd));
    const joins = res.filter(r => r.name.includes('/queue/join')).map(r => r.startTime);
    const key = 'bench-timeline-RUN';
    const seen = JSON.parse(localStorage.getItem(key) || '[]');
    seen.push({signed_in: nav.fetchStart, page: nav.responseEnd,
               modules: end(res.filter(r => r.initiatorType === 'script' || r.initiatorType === 'link')),
               events_out: joins.length ? Math.min(...joins) : 0,
               answers: end(res.filter(r => r.name.includes('/queue/data'))), usable: performance.now()});
    localStorage.setItem(key, JSON.stringify(seen));
    SIGN_OUT
  };
  if (ready()) { mark(); return; }
  const watch = new MutationObserver(() => { if (ready()) { watch.disconnect(); mark(); } });
  watch.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['disabled']});
}"""


SIGN_OUT_JS = "setTimeout(async () => { await fetch('/logout', {method: 'POST'}); location.href = '/login'; }, 1500);"


def build():  # type: ignore[no-untyped-def]
    from desktop_app.ui.demo import build as build_demo

    sign_out = SIGN_OUT_JS if os.environ.get("MARKER_SIGN_OUT") == "1" else ""
    run = "".join(c for c in os.environ.get("MARKER_RUN", "0") if c.isalnum())
    demo = build_demo()
    with demo:
        demo.load(None, js=MARKER_JS.replace("SIGN_OUT", sign_out).replace("RUN", run))
    return demo
