"""The command line: `desktop-app [options]` runs the app, `desktop-app users ...`
manages accounts. Builds Settings once and owns the process: signals, exit codes,
and turning every UserError into one line on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import shlex
import sys
import threading
import time
import warnings
from collections.abc import Sequence

from desktop_app.errors import DamagedStoreError, UserError
from desktop_app.identity import APP_NAME, APP_SLUG, VERSION
from desktop_app.settings import Settings

log = logging.getLogger("desktop_app")
START_TIMEOUT_SECONDS = 120


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Options that both the app and `users` accept. Under a subcommand they use
    # SUPPRESS so that a value given before the subcommand is not reset.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--data-dir", metavar="PATH", default=default,
                        help="where accounts, sessions and data live (env DESKTOP_APP_DATA_DIR)")
    parser.add_argument("--cache-dir", metavar="PATH", default=default,
                        help="Gradio's temporary files (env DESKTOP_APP_CACHE_DIR)")
    parser.add_argument("--log-dir", metavar="PATH", default=default,
                        help="rotating log file (env DESKTOP_APP_LOG_DIR)")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="log more, also to stderr (env DESKTOP_APP_DEBUG=1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=APP_SLUG, description=f"{APP_NAME}: a Gradio app on this computer.")
    parser.add_argument("--version", action="version", version=f"{APP_SLUG} {VERSION}")
    _common(parser, suppress=False)
    parser.add_argument("--headless", action="store_true", default=None,
                        help="serve only, no window; prints 'READY <url>' (env DESKTOP_APP_HEADLESS=1)")
    parser.add_argument("--port", metavar="N", help="port on 127.0.0.1; 0 = any free port (default; env DESKTOP_APP_PORT)")
    parser.add_argument("--ui", metavar="MODULE:FUNCTION",
                        help="function returning your gr.Blocks (default: the bundled demo; env DESKTOP_APP_UI)")
    parser.add_argument("--session-idle", metavar="DURATION",
                        help="end a session unused this long, e.g. 30m, 24h (default 24h; env DESKTOP_APP_SESSION_IDLE)")
    parser.add_argument("--session-max", metavar="DURATION",
                        help="end any session this long after login (default 14d; env DESKTOP_APP_SESSION_MAX)")
    parser.add_argument("--launch-token", metavar="on|off",
                        help="require this launch's secret URL before any page (default on; "
                             "env DESKTOP_APP_LAUNCH_TOKEN)")
    parser.add_argument("--webview", metavar="auto|gtk|qt",
                        help="the window's web engine on Linux (default auto: WebKitGTK, else Qt; "
                             "env DESKTOP_APP_WEBVIEW)")
    parser.add_argument("--max-upload", metavar="SIZE",
                        help="largest file upload, e.g. 100mb (default 100mb; env DESKTOP_APP_MAX_UPLOAD)")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    users = sub.add_parser("users", help="manage the accounts on this computer")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    for name, helptext in (("add", "create an account"), ("set-password", "change a password (ends that user's sessions)")):
        p = users_sub.add_parser(name, help=helptext)
        p.add_argument("name")
        p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
        _common(p, suppress=True)
    p = users_sub.add_parser("delete", help="delete an account, its sessions and its data")
    p.add_argument("name")
    _common(p, suppress=True)
    p = users_sub.add_parser("list", help="list accounts")
    _common(p, suppress=True)

    store = sub.add_parser("store", help="the data store file")
    store_sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    p = store_sub.add_parser("set-aside", help="move a damaged store aside (renamed, not deleted) and start fresh")
    _common(p, suppress=True)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    keys = ("data_dir", "cache_dir", "log_dir", "debug", "headless", "port", "ui",
            "session_idle", "session_max", "max_upload", "launch_token", "webview")
    for key in ("data_dir", "cache_dir", "log_dir"):
        # `--data-dir "$UNSET"` would otherwise mean the current directory, wherever that is.
        if getattr(args, key, None) == "":
            flag = "--" + key.replace("_", "-")
            raise UserError(f"{flag} is empty; give it a directory, or leave it out for the default.", exit_code=2)
    return Settings.build({k: getattr(args, k, None) for k in keys})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = settings_from_args(args)
        if args.command == "users":
            return run_users(settings, args)
        if args.command == "store":
            return run_store(settings)
        return run_app(settings)
    except DamagedStoreError as exc:
        assert settings is not None
        print(f"{APP_SLUG}: error: {exc.message} To move it aside: "
              f"{APP_SLUG} store set-aside --data-dir {shlex.quote(str(settings.data_dir))}", file=sys.stderr)
        return exc.exit_code
    except UserError as exc:
        print(f"{APP_SLUG}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{APP_SLUG}: cancelled.", file=sys.stderr)
        return 130
    except Exception as exc:
        # A bug of ours: the traceback goes to the log, the person gets one line.
        where = _log_unexpected(settings)
        print(f"{APP_SLUG}: unexpected error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return 1


def _log_unexpected(settings: Settings | None) -> str:
    """Put the exception being handled in the log file and say where, or say nothing.

    `users` and `store` set up no logging of their own, and with no handler at all
    logging's last resort prints the whole traceback on stderr; so logging starts
    here, and the traceback is logged only if a log file is there to take it."""
    from desktop_app.logs import FILE_ONLY, setup_logging

    if settings is None:
        return ""
    root = logging.getLogger()
    if not root.handlers:
        setup_logging(settings)
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        return ""
    log.exception("unexpected error", extra=FILE_ONLY)
    return f"; details in the log at {settings.dirs.log_file}"


# -- users ---------------------------------------------------------------
def _name_arg(name: str) -> str:
    # Bytes that are not UTF-8 arrive as surrogates, which SQLite cannot even look up.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"Username {name!r} is not valid UTF-8 text; see '{APP_SLUG} users list' for the names.",
                        exit_code=2) from None
    return name


def _read_new_password(from_stdin: bool) -> str:
    password = _password_from_stdin() if from_stdin else _password_from_terminal()
    try:
        password.encode("utf-8")  # what argon2 hashes; surrogates would fail there, as a traceback
    except UnicodeEncodeError:
        source = "--password-stdin: the password" if from_stdin else "The password typed"
        raise UserError(f"{source} is not valid UTF-8 text; use a UTF-8 terminal or file.", exit_code=2) from None
    return password


def _password_from_stdin() -> str:
    # Bytes, decoded here: sys.stdin's own decoding depends on the locale (strict,
    # or surrogateescape in a C or UTF-8-mode locale), and a password must not.
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise UserError("--password-stdin: there is no stdin to read; pipe the password in, e.g. `echo ... |`.",
                        exit_code=2)
    line = stream.readline()
    if not line:
        raise UserError("--password-stdin: nothing on stdin; pipe the password in, e.g. `echo ... |`.", exit_code=2)
    try:
        return line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise UserError("--password-stdin: the password is not valid UTF-8 text; "
                        "save it as UTF-8 and pipe it in again.", exit_code=2) from None


def _password_from_terminal() -> str:
    try:
        with warnings.catch_warnings():
            # With no terminal, getpass warns, then reads stdin showing what is typed
            # (into a CI log, say). Refuse instead, and point to the way meant for that.
            warnings.simplefilter("error", getpass.GetPassWarning)
            first = getpass.getpass("New password: ")
            second = getpass.getpass("Repeat password: ")
    except getpass.GetPassWarning:
        raise UserError("There is no terminal to type the password in; "
                        "pipe it in with --password-stdin instead.", exit_code=2) from None
    except EOFError:  # Ctrl-D at the prompt
        raise UserError("No password was typed (end of input); nothing was changed.", exit_code=2) from None
    except UnicodeDecodeError:
        raise UserError("The password typed is not valid UTF-8 text; use a UTF-8 terminal.", exit_code=2) from None
    if second != first:
        raise UserError("The two passwords do not match; nothing was changed.", exit_code=2)
    return first


def run_users(settings: Settings, args: argparse.Namespace) -> int:
    from desktop_app.store.accounts import validate_password, validate_username
    from desktop_app.store import open_store

    action = args.users_command
    if action != "list":
        _name_arg(args.name)
    password = None
    if action == "add":
        # All input first, before the store is opened (and so, in a new data dir,
        # created): input that is refused leaves no trace.
        validate_username(args.name)
        password = validate_password(_read_new_password(args.password_stdin))
    services = open_store(settings)
    try:
        accounts = services.accounts
        if action == "list":
            for name, created in accounts.list():
                print(f"{name}\t{time.strftime('%Y-%m-%d %H:%M', time.localtime(created))}")
        elif action == "add":
            assert password is not None
            name = accounts.create(args.name, password)
            print(f"Created account {name!r}.")
        elif action == "set-password":
            if not accounts.exists(args.name):
                raise UserError(f"No account named {args.name!r}; see '{APP_SLUG} users list'.")
            ended = accounts.set_password(args.name, _read_new_password(args.password_stdin))
            print(f"Password changed; {ended} session(s) ended.")
        elif action == "delete":
            accounts.delete(args.name)
            print(f"Deleted account {args.name!r}, its sessions and its data.")
        return 0
    finally:
        services.close()


# -- store ---------------------------------------------------------------
def run_store(settings: Settings) -> int:
    """`store set-aside`: the person's explicit "start fresh" after a damaged store.
    Only a store that really cannot be read is moved, and only while no app runs on it."""
    from desktop_app.store.db import Database, set_aside
    from desktop_app.instance import InstanceLock
    from desktop_app.paths import ensure_private_dir

    path = settings.dirs.db_path
    if not path.exists():
        raise UserError(f"There is no data store at {str(path)!r}; nothing to set aside.")
    ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
    lock = InstanceLock(settings.data_dir)
    if not lock.acquire():
        raise UserError(f"{APP_SLUG} is running on the data directory {str(settings.data_dir)!r}; close it first.")
    try:
        try:
            Database(path).close()
        except DamagedStoreError:
            moved = set_aside(path)
            print(f"Moved the damaged store to {moved}. The next start begins with no accounts.")
            return 0
        raise UserError(f"The data store {str(path)!r} opens fine, so it was not moved.")
    finally:
        lock.release()


# -- the app ---------------------------------------------------------------
def run_app(settings: Settings) -> int:
    from desktop_app.logs import setup_logging

    t0 = time.perf_counter()
    setup_logging(settings)
    if not settings.headless:
        from desktop_app.desktop import window

        reason = window.unavailable_reason(settings.webview)
        if reason is None:
            from desktop_app.desktop.boot import exit_now, run_desktop

            exit_now(run_desktop(settings, t0))
        print(f"{APP_SLUG}: {reason}; serving without a window instead.", file=sys.stderr)
    return serve_headless(settings, t0)


def serve_headless(settings: Settings, t0: float) -> int:
    from desktop_app.web.app import create_app
    from desktop_app.desktop.boot import _hand_over
    from desktop_app.web.gradio_mount import GradioLoader
    from desktop_app.instance import InstanceLock
    from desktop_app.web.launch import launch_url, new_launch_token
    from desktop_app.paths import ensure_private_dir
    from desktop_app.web.server import ServerThread, bind_socket
    from desktop_app.store import open_store
    from desktop_app.signals import SignalWatcher

    stop = threading.Event()
    watcher = SignalWatcher(lambda signum: stop.set()).install()
    ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
    lock = InstanceLock(settings.data_dir)  # one server per store, with or without a window
    if not lock.acquire():
        return _hand_over(settings)
    try:
        services = open_store(settings)
        try:
            sock = bind_socket(settings.host, settings.port)  # fail fast, before any thread starts
            loader = GradioLoader(settings).start()  # Gradio imports while the login page is served
            token = new_launch_token() if settings.launch_token else None
            server = ServerThread(create_app(settings, services, loader, instance=lock, launch_token=token), sock)
            server.start()
            if not server.wait_started(START_TIMEOUT_SECONDS):
                server.stop()
                raise UserError(
                    f"The server did not start ({server.error or 'timed out'}); "
                    f"see the log at {settings.dirs.log_file}."
                )
            lock.publish(server.url)
            log.info("serving %s (ready after %.3fs)", server.url, time.perf_counter() - t0)
            # Like Jupyter: the address to open carries this launch's token.
            print(f"READY {launch_url(server.url, token)}", flush=True)
            try:
                while not stop.wait(0.25):
                    if not server.alive:
                        raise UserError(f"{server.death_notice()} See the log at {settings.dirs.log_file}.")
                    if loader.error is not None:
                        # Without its UI the app is no use: say why, and stop cleanly.
                        raise loader.error
                log.info("signal %s: stopping", watcher.received)
            finally:
                server.stop()
            return 0
        finally:
            services.close()
    finally:
        lock.release()
