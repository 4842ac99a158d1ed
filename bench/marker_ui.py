"""The demo UI plus a marker, for bench/window_start.py: once the Notes box is
enabled (its saved text has arrived: the UI is usable), a magenta square is
drawn in the window's top-left corner, where the benchmark watches the screen.

The marker is JavaScript run by Gradio's own `js=` hook (allowed by the CSP),
so the page measured is the demo's, unchanged but for the square.

    desktop-app --ui marker_ui:build     # with bench/ on PYTHONPATH
"""

from __future__ import annotations

MARKER_JS = """() => {
  const ready = () => document.querySelector('#notes-box textarea:not([disabled])');
  const mark = () => {
    const square = document.createElement('div');
    square.style.cssText = 'position:fixed;left:0;top:0;width:48px;height:48px;background:#ff00ff;z-index:2147483647';
    document.body.append(square);
  };
  if (ready()) { mark(); return; }
  const watch = new MutationObserver(() => { if (ready()) { watch.disconnect(); mark(); } });
  watch.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['disabled']});
}"""


def build():  # type: ignore[no-untyped-def]
    from desktop_app.ui.demo import build as build_demo

    demo = build_demo()
    with demo:
        demo.load(None, js=MARKER_JS)
    return demo
