"""Ship a Gradio app as a desktop application."""

from desktop_app.identity import VERSION as __version__

__all__ = ["__version__"]
