"""Ship a Gradio app as a desktop application.

What UI code uses is declared in desktop_app.context and re-exported here:
`from desktop_app import user_data, account`.
"""

from desktop_app.context import account, user_data
from desktop_app.identity import VERSION as __version__

__all__ = ["__version__", "account", "user_data"]
