"""The demo home page: what the shell is for, in two tabs.

- Notes: per-user text kept in the store, so it is there after logout,
  restart, or a new machine boot; and a file to download (in the window,
  downloads get a save dialog).
- Account: who is signed in, change the password (which ends the other
  sessions), see the sessions and end any of them, log out.

A developer's own UI follows the same pattern: `build()` returns gr.Blocks,
callbacks take `request: gr.Request` and reach persisted data with
`desktop_app.context.user_data(request)`.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import gradio as gr

from desktop_app.context import account, user_data
from desktop_app.errors import UserError
from desktop_app.identity import DEMO

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


def change_password(current: str, new: str, confirm: str, request: gr.Request) -> tuple[str, str, str, str]:
    """Returns (message, "", "", ""): the three password boxes are always cleared."""
    if new != confirm:
        return "The two new passwords do not match.", "", "", ""
    try:
        ended = account(request).change_password(current, new)
    except UserError as exc:
        return exc.message, "", "", ""
    return f"Password changed. {ended} other session(s) ended.", "", "", ""


def list_sessions(request: gr.Request) -> tuple[str, dict]:
    me = account(request)
    rows, choices = ["| started | last used | |", "|---|---|---|"], []
    for s in me.sessions():
        this = s.id_hash == me.current_session_id
        rows.append(f"| {_when(s.created_at)} | {_when(s.last_seen)} | {'this window' if this else ''} |")
        if not this:
            choices.append((f"started {_when(s.created_at)}", s.id_hash))
    return "\n".join(rows), gr.update(choices=choices, value=None)


def end_session(id_hash: str | None, request: gr.Request) -> tuple[str, dict]:
    if id_hash:
        account(request).end_session(id_hash)
    return list_sessions(request)


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _saved_label(saved_at: float | None) -> str:
    if not saved_at:
        return "Not saved yet."
    return "Saved " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved_at)) + "."


def build() -> gr.Blocks:
    with gr.Blocks(title=DEMO.name, analytics_enabled=False) as demo:
        gr.Markdown(f"# {DEMO.name}")
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
                with gr.Accordion("Change password", open=False):
                    current = gr.Textbox(label="Current password", type="password")
                    new = gr.Textbox(label="New password", type="password")
                    confirm = gr.Textbox(label="New password again", type="password")
                    change = gr.Button("Change password")
                    change_status = gr.Markdown(elem_id="password-status")
                with gr.Accordion("Sessions", open=False):
                    sessions = gr.Markdown(elem_id="sessions")
                    # Choices change per user at run time; Gradio's own check against the
                    # build-time (empty) list would refuse them. Safe: the store ends a
                    # session only if it belongs to the signed-in user.
                    other = gr.Dropdown(label="Another session", choices=[], allow_custom_value=True,
                                        elem_id="other-session")
                    end = gr.Button("End that session")
        save.click(save_notes, inputs=notes, outputs=status, api_name="save_notes")
        export.click(export_notes, inputs=notes, outputs=exported, api_name="export_notes")
        logout.click(None, js=LOGOUT_JS)
        change.click(change_password, inputs=[current, new, confirm],
                     outputs=[change_status, current, new, confirm], api_name="change_password")
        end.click(end_session, inputs=other, outputs=[sessions, other], api_name="end_session")
        demo.load(list_sessions, outputs=[sessions, other], api_name="list_sessions")
        demo.load(load_notes, outputs=[notes, save, status], api_name="load_notes")
        demo.load(whoami, outputs=who, api_name="whoami")
    return demo
