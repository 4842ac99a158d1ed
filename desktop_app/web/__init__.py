"""The web layer: the Starlette app, its middleware and pages, the server
thread, and Gradio's mount (the only part that imports gradio, and only in
the loader thread)."""

# Where the Gradio UI is mounted; everything else here is the shell's own.
GRADIO_PATH = "/gradio"
