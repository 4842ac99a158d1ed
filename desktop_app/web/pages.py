"""The few HTML pages the shell serves itself: login and first-run setup.

Plain HTML forms, one stylesheet under /static, no scripts, no external
resources. Every value put into a page goes through `html.escape`.
"""

from __future__ import annotations

from html import escape

from desktop_app.identity import current
from desktop_app.store.accounts import MIN_PASSWORD_BYTES

# Our own pages need nothing but themselves: no scripts at all, forms post home.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {app}</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/icon.png">
</head>
<body>
<main>
<h1>{title}</h1>
<p class="lead">{lead}</p>
{error}
{body}
</main>
</body>
</html>
"""


def _page(title: str, lead: str, body: str, error: str | None) -> str:
    err = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _LAYOUT.format(title=escape(title), app=escape(current().name), lead=escape(lead), error=err, body=body)


def login_page(*, csrf: str, next_url: str, username: str = "", error: str | None = None) -> str:
    body = f"""<form method="post" action="/login">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{escape(username)}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<label class="check"><input type="checkbox" id="remember" name="remember" value="1"> Keep me signed in on this computer</label>
<button type="submit">Sign in</button>
</form>"""
    return _page("Sign in", f"Welcome back to {current().name}.", body, error)


def setup_page(*, csrf: str, username: str = "", error: str | None = None) -> str:
    body = f"""<form method="post" action="/setup">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{escape(username)}" autocomplete="username" autocapitalize="none" required autofocus>
<p class="hint">Letters, digits, '.', '_', '-' or '@'.</p>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="{MIN_PASSWORD_BYTES}" required>
<p class="hint">At least {MIN_PASSWORD_BYTES} characters.</p>
<label for="confirm">Confirm password</label>
<input type="password" id="confirm" name="confirm" autocomplete="new-password" required>
<label class="check"><input type="checkbox" id="remember" name="remember" value="1" checked> Keep me signed in on this computer</label>
<button type="submit">Create account</button>
</form>"""
    return _page(
        "Create your account",
        f"This is the first start of {current().name} on this computer. The account lives only here.",
        body,
        error,
    )


def no_accounts_page() -> str:
    """A team server (`serve`) with no account yet: its first comes from the
    command line, never from a page anyone on the network could open first."""
    lead = (f"{current().name} on this server has no accounts yet. Whoever runs the server creates the first "
            f"one on its command line: {current().slug} users add NAME --store URL.")
    return _page("No accounts yet", lead, "", None)


def problem_page(*, message: str) -> str:
    """A request could not be completed for a reason outside the app (a full disk)."""
    body = '<p><a href="/login">Back</a></p>'
    return _page("Something went wrong", "Nothing was changed.", body, message)
