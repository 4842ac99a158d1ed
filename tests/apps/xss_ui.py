"""A UI that echoes whatever it is given into a Markdown and an HTML output:
what a careless app does with untrusted text. tests/test_e2e_browser.py feeds it
script payloads and checks that none of them runs."""

from __future__ import annotations


def build():  # type: ignore[no-untyped-def]
    import gradio as gr

    with gr.Blocks() as demo:
        box = gr.Textbox(elem_id="payload")
        markdown = gr.Markdown(elem_id="md-out")
        html = gr.HTML(elem_id="html-out")
        gr.Button("Render", elem_id="render").click(lambda text: (text, text), box, [markdown, html])
    return demo
