"""The demo home page: what the shell is for, in two tabs.

- Notes: per-user text kept in the store, so it is there after logout,
  restart, or a new machine boot; and a file to download (in the window,
  downloads get a save dialog).
- Account: who is signed in, and a way out.

A developer's own UI follows the same pattern: `build()` returns gr.Blocks,
callbacks take `request: gr.Request` and reach persisted data with
`desktop_app.context.user_data(request)`.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import gradio as gr

from desktop_app.context import user_data
from desktop_app.identity import APP_NAME

NOTES_KEY = "notes"
MAX_NOTES_CHARS = 100_000

# fetch() from our own page sends our Origin, which the guard requires for POST.
LOGOUT_JS = """() => {
  fetch('/logout', {method: 'POST', credentials: 'same-origin'})
    .finally(() => { window.location.href = '/login'; });
}"""


def load_notes(request: gr.Request) -> tuple[dict, dict, str]:
    saved = user_data(request).get(NOTES_KEY) or {}
    # The box and the button stay disabled until the saved text arrives: nothing
    # typed early is overwritten by the load, and an early Save cannot store ""
    # over the real notes.
    return (
        gr.update(value=saved.get("text", ""), interactive=True),
        gr.update(interactive=True),
        _saved_label(saved.get("saved_at")),
    )


def save_notes(text: str, request: gr.Request) -> str:
    if len(text) > MAX_NOTES_CHARS:
        raise gr.Error(f"Notes can hold at most {MAX_NOTES_CHARS:,} characters; these have {len(text):,}.")
    now = time.time()
    user_data(request).set(NOTES_KEY, {"text": text, "saved_at": now})
    return _saved_label(now)


def export_notes(text: str, request: gr.Request) -> str:
    """Write the notes to a .txt file for the person to download. The file goes
    to Gradio's temp dir (under our cache dir), which Gradio serves only to a
    signed-in session through its file route."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / "exports" / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"notes-{request.username}.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def whoami(request: gr.Request) -> str:
    return f"Signed in as **{request.username}**."


def _saved_label(saved_at: float | None) -> str:
    if not saved_at:
        return "Not saved yet."
    return "Saved " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved_at)) + "."


def build() -> gr.Blocks:
    with gr.Blocks(title=APP_NAME, analytics_enabled=False) as demo:
        gr.Markdown(f"# {APP_NAME}")
        with gr.Tabs():
            with gr.Tab("Notes", id="notes"):
                notes = gr.Textbox(
                    label="Your notes", lines=12, interactive=False, elem_id="notes-box",
                    placeholder="Write anything; it is kept on this computer.",
                )
                save = gr.Button("Save", variant="primary", interactive=False, elem_id="save-notes")
                status = gr.Markdown("Loading…", elem_id="notes-status")
                with gr.Accordion("Export", open=False):
                    export = gr.Button("Export as .txt", elem_id="export-notes")
                    exported = gr.File(label="Download", interactive=False, elem_id="notes-file")
            with gr.Tab("Account", id="account"):
                who = gr.Markdown(elem_id="whoami")
                logout = gr.Button("Log out", elem_id="logout")
        save.click(save_notes, inputs=notes, outputs=status, api_name="save_notes")
        export.click(export_notes, inputs=notes, outputs=exported, api_name="export_notes")
        logout.click(None, js=LOGOUT_JS)
        demo.load(load_notes, outputs=[notes, save, status], api_name="load_notes")
        demo.load(whoami, outputs=who, api_name="whoami")
    return demo
