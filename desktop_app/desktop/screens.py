"""The window's own screens (loading, could not start): shown before or without
the server, so they are self-contained HTML with inline styles. Kept apart from
pages.py so the window imports nothing it does not need before it appears."""

from __future__ import annotations

from html import escape

from desktop_app.identity import current

# The spinner turns in 8 steps (10 frames a second), not smoothly (60): the loading
# page stays on screen while Gradio imports, and a web engine painting without a GPU
# (Qt WebEngine under Xvfb here) spent ~2.4 s of CPU on those frames in a kept-session
# launch, beside the import on two cores: usable 5.63 -> 4.71 s (n=6 each,
# alternating; WebKitGTK unchanged: docs/performance.md).
_WINDOW_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{app}</title>
<style>
html,body{{height:100%;margin:0}}
body{{display:flex;align-items:center;justify-content:center;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#fafafa;color:#27272a}}
main{{max-width:32rem;padding:2rem;text-align:center}}
h1{{font-size:1.4rem;margin:0 0 1rem}}
.spinner{{width:36px;height:36px;margin:0 auto 1.25rem;border:4px solid #e4e4e7;border-top-color:#ea580c;border-radius:50%;animation:spin .8s steps(8) infinite}}
@keyframes spin{{to{{transform:rotate(360deg)}}}}
.error{{color:#991b1b}}
.log{{font-size:.85rem;color:#71717a;word-break:break-all}}
.note{{font-size:.85rem;color:#71717a}}
button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#ea580c;color:#fff;cursor:pointer}}
button:disabled{{opacity:.5}}
</style></head>
<body><main>{body}</main></body></html>
"""


def loading_page(*, log_file: str) -> str:
    body = (f'<div class="spinner" role="progressbar" aria-label="Starting"></div>'
            f'<h1 id="loading">Starting {escape(current().name)}…</h1>'
            f'<p class="log">Log: {escape(log_file)}</p>')
    return _WINDOW_PAGE.format(app=escape(current().name), body=body)


def error_page(*, message: str, log_file: str, offer_fresh_start: bool = False, backup_made: str | None = None) -> str:
    """`offer_fresh_start`: the store is damaged; buttons let the person choose to
    restore the last backup (when there is one: `backup_made` says when it was
    made) or to move the store aside and start with no accounts. boot.py polls
    `window.storeChoice`. The first button has the focus: Enter takes it."""
    choices = ""
    if offer_fresh_start:
        pick = "window.storeChoice='{}'; document.querySelectorAll('button').forEach(b => b.disabled = true)"
        if backup_made is not None:
            choices += (f'<p><button id="restore-backup" autofocus onclick="{pick.format("restore")}">'
                        f'Restore the backup of {escape(backup_made)}</button></p>'
                        '<p class="note">The damaged file is kept beside it (renamed), not deleted. '
                        'Everyone signs in again; what was saved after the backup is not in it.</p>')
        focus = "" if backup_made is not None else " autofocus"
        choices += (f'<p><button id="start-fresh"{focus} onclick="{pick.format("fresh")}">'
                    'Move it aside and start fresh</button></p>'
                    '<p class="note">The damaged file is kept beside the new one (renamed), not deleted. '
                    'You will create a new account.</p>')
    body = (f'<h1 id="error">{escape(current().name)} could not start</h1>'
            f'<p class="error">{escape(message)}</p>{choices}'
            f'<p class="log">Details are in the log: {escape(log_file)}</p>')
    return _WINDOW_PAGE.format(app=escape(current().name), body=body)
