"""The command line: `desktop-app [options]` runs the app, `desktop-app users ...`
manages accounts. Builds Settings once and owns the process: signals, exit codes,
and turning every UserError into one line on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
import warnings
from collections.abc import Sequence

from desktop_app.errors import DamagedStoreError, UserError
from desktop_app.identity import bundled, current
from desktop_app.paths import keep_new_files_private
from desktop_app.settings import OPTIONS, Settings

log = logging.getLogger("desktop_app")
# How long a team server waits, once asked to stop, for the Gradio events in
# flight: under the 30 s a supervisor (systemd, Kubernetes) gives before SIGKILL.
DRAIN_SECONDS = 20.0
LINGER_SECONDS = 3.0  # then: 20 s of drain + uvicorn's 5 s + these 3 < 30 s


APP_SCOPES = ("all", "run", "window")  # settings.Option.scope: what the app itself takes
SERVE_SCOPES = ("all", "run", "serve")


def _add_options(parser: argparse.ArgumentParser, *, subcommand: bool, scopes: Sequence[str] = ("all",)) -> None:
    # Made from the one settings table. Under a subcommand the options use
    # SUPPRESS, so that a value given before the subcommand is not reset.
    for option in OPTIONS:
        if option.scope not in (APP_SCOPES if not subcommand else scopes):
            continue
        default = argparse.SUPPRESS if subcommand else None
        helptext = f"{option.help} (default: {option.default}; env {option.env})"
        if option.metavar is None:
            parser.add_argument(option.flag, action="store_true", default=default, help=helptext)
        else:
            parser.add_argument(option.flag, metavar=option.metavar, default=default, help=helptext)


def build_parser() -> argparse.ArgumentParser:
    app = current()
    parser = argparse.ArgumentParser(prog=app.slug, description=f"{app.name}: a Gradio app on this computer.")
    parser.add_argument("--version", action="version", version=f"{app.slug} {app.version}")
    _add_options(parser, subcommand=False)

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="run as a team server behind a reverse proxy (no window)",
                           description="Serve the app to a team: no window, no launch token, the first account "
                           f"from '{app.slug} users add'. See docs/team-server.md.")
    _add_options(serve, subcommand=True, scopes=SERVE_SCOPES)
    users = sub.add_parser("users", help="manage the accounts on this computer")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    for name, helptext in (("add", "create an account"), ("set-password", "change a password (ends that user's sessions)")):
        p = users_sub.add_parser(name, help=helptext)
        p.add_argument("name")
        p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
        _add_options(p, subcommand=True)
    p = users_sub.add_parser("delete", help="delete an account, its sessions and its data")
    p.add_argument("name")
    _add_options(p, subcommand=True)
    p = users_sub.add_parser("list", help="list accounts")
    _add_options(p, subcommand=True)

    if bundled() is None:  # a shipped app is the person's, not a developer's tool
        from desktop_app.devtools import add_commands

        add_commands(sub, lambda p: _add_options(p, subcommand=True, scopes=APP_SCOPES))

    from desktop_app import maintenance

    maintenance.add_commands(sub, lambda p: _add_options(p, subcommand=True))
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    serve = getattr(args, "command", None) == "serve"
    return Settings.build({option.name: getattr(args, option.name, None) for option in OPTIONS}, serve=serve)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    settings: Settings | None = None
    try:
        project_used = argv[:1] == ["run"] and bundled() is None
        if project_used:
            # The developer's project is the app from here on: before the
            # parser (its --help names the app's variables) and the settings.
            from desktop_app import devtools

            devtools.use_project()
        args = build_parser().parse_args(argv)
        if args.command in ("init", "build"):
            # A developer's files and packages, with their own umask: not private.
            from desktop_app import devtools

            return devtools.run_command(args)
        keep_new_files_private()  # the app's files, from here on
        if args.command == "run" and not project_used:  # `desktop-app --debug run`
            from desktop_app import devtools

            devtools.use_project()
        settings = settings_from_args(args)
        if args.command == "users":
            return run_users(settings, args)
        if args.command == "store":
            from desktop_app import maintenance

            return maintenance.run(settings, args)
        return run_app(settings)
    except DamagedStoreError as exc:
        assert settings is not None
        from desktop_app.maintenance import damaged_store_hint

        print(f"{current().slug}: error: {exc.message} {damaged_store_hint(settings)}", file=sys.stderr)
        return exc.exit_code
    except UserError as exc:
        print(f"{current().slug}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{current().slug}: cancelled.", file=sys.stderr)
        return 130
    except Exception as exc:
        # A bug of ours: the traceback goes to the log, the person gets one line.
        where = _log_unexpected(settings)
        print(f"{current().slug}: unexpected error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
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
        raise UserError(f"Username {name!r} is not valid UTF-8 text; see '{current().slug} users list' for the names.",
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
    from desktop_app.store import open_store
    from desktop_app.store.accounts import validate_password, validate_username

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
                raise UserError(f"No account named {args.name!r}; see '{current().slug} users list'.")
            ended = accounts.set_password(args.name, _read_new_password(args.password_stdin))
            print(f"Password changed; {ended} session(s) ended.")
        elif action == "delete":
            accounts.delete(args.name)
            print(f"Deleted account {args.name!r}, its sessions and its data.")
        return 0
    finally:
        services.close()


# -- the app ---------------------------------------------------------------
def run_app(settings: Settings) -> int:
    from desktop_app.logs import setup_logging

    t0 = time.perf_counter()
    setup_logging(settings)
    if not settings.headless:
        from desktop_app.desktop.backends import unavailable_reason

        reason = unavailable_reason(settings.webview)
        if reason is None:
            from desktop_app.desktop.boot import exit_now, run_desktop

            exit_now(run_desktop(settings, t0))
        print(f"{current().slug}: {reason}; serving without a window instead.", file=sys.stderr)
    return serve_headless(settings, t0)


def serve_headless(settings: Settings, t0: float) -> int:
    """The runtime's sequence from the main thread, until SIGINT/SIGTERM."""
    from desktop_app.errors import Cancelled
    from desktop_app.runtime import Runtime
    from desktop_app.signals import SignalWatcher, exit_if_threads_linger

    runtime = Runtime(settings, t0=t0)
    watcher = SignalWatcher(lambda signum: runtime.should_exit.set()).install()
    if not runtime.open():  # one server per store, with or without a window
        return runtime.hand_over()
    try:
        try:
            runtime.start(build_now=True)
            runtime.watch(if_server_dies=f"See the log at {settings.dirs.log_file}.")
            if settings.serving:  # a team server: what is in flight finishes first
                runtime.drain(DRAIN_SECONDS)
        except Cancelled:
            pass  # a signal while starting
        finally:
            runtime.stop()
        log.info("signal %s: stopping", watcher.received)
        return 0
    finally:
        runtime.close()
        if settings.serving:
            exit_if_threads_linger(LINGER_SECONDS)

