"""A UI with Gradio's deep-link button (saves a page's state under a link)."""

import gradio as gr


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        box = gr.Textbox(elem_id="box")
        gr.Button("Echo").click(lambda text: text, box, box, api_name="echo")
        gr.DeepLinkButton()
    return demo
