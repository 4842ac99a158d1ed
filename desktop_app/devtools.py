"""The developer's commands, run inside their own project: `init` writes the
`[tool.desktop-app]` table, `run` starts their UI in the window as the shipped
app shows it, `build` freezes it (freeze/). A shipped app has none of them
(cli.py leaves them out of a bundle's command line).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

from desktop_app import identity
from desktop_app.errors import UserError
from desktop_app.project import Project, find_pyproject, load_project


def add_commands(sub: argparse._SubParsersAction, add_app_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("init", help="add a [tool.desktop-app] table to your project's pyproject.toml")
    for flag, helptext in (("--name", "the app's name (default: from [project].name)"),
                           ("--ui", "MODULE:FUNCTION returning your gr.Blocks (default: PACKAGE.app:build)"),
                           ("--icon", "a PNG of at least 512 px (default: icon.png, a placeholder)"),
                           ("--bundle-id", "reverse-DNS id (default: org.example.SLUG)"),
                           ("--slug", "directory and command name (default: from the name)")):
        p.add_argument(flag, dest="init_" + flag[2:].replace("-", "_"), help=helptext)

    p = sub.add_parser("run", help="run your project's UI ([tool.desktop-app]) as the shipped app shows it")
    add_app_options(p)

    p = sub.add_parser("build", help="freeze your project into dist/SLUG/ (and installers)")
    p.add_argument("--installer", action="store_true", help="also make this system's installer: "
                   "a .deb on Linux, SLUG-VERSION-setup.exe on Windows (Inno Setup), a .dmg on macOS")
    p.add_argument("--deb", action="store_true", help="also make dist/SLUG_VERSION_ARCH.deb (Linux)")
    p.add_argument("--ci", choices=["github"], help="write a workflow that builds on Linux, Windows and macOS "
                   "into your repository instead of building here")
    p.add_argument("--dist", metavar="PATH", help="where the bundle and installers go (default: PROJECT/dist)")


def project_here() -> Project:
    return load_project(find_pyproject(Path.cwd()))


def use_project() -> Project:
    """`run`: the project in the current folder becomes the app this process is."""
    project = project_here()
    # Their package is importable as it will be in the bundle, installed or not.
    sys.path.insert(0, str(project.source_root))
    check_ui_module(project)
    identity.use(project.identity())
    return project


def check_ui_module(project: Project) -> None:
    """The module `ui` names can be found, before the window opens. Finding
    `pkg.app` runs `pkg/__init__.py` (not `app` itself, nor Gradio: that is
    seconds the window would wait; the build checks the rest)."""
    module = project.ui.partition(":")[0]
    parts = module.split(".")
    try:
        found = importlib.util.find_spec(module)
    except ModuleNotFoundError as exc:
        if exc.name not in {".".join(parts[:i]) for i in range(1, len(parts) + 1)}:
            raise _import_failed(project, exc) from None
        found = None
    except Exception as exc:  # their package's __init__ raised while being found
        raise _import_failed(project, exc) from None
    if found is None:
        raise UserError(f"ui = {project.ui!r} in [tool.desktop-app]: there is no module {module!r} in "
                        f"{str(project.source_root)!r} or the installed packages; check the name.", exit_code=2)


def _import_failed(project: Project, exc: Exception) -> UserError:
    hint = " (is the project installed? pip install -e .)" if isinstance(exc, ModuleNotFoundError) else ""
    return UserError(f"ui = {project.ui!r} in [tool.desktop-app]: importing its package failed: "
                     f"{type(exc).__name__}: {exc}{hint}", exit_code=2)


def run_command(args: argparse.Namespace) -> int:
    if args.command == "init":
        return _init(args)
    return _build(args)


def _init(args: argparse.Namespace) -> int:
    from desktop_app.project_init import init

    written = init(Path.cwd(), name=args.init_name, ui=args.init_ui, icon=args.init_icon,
                   bundle_id=args.init_bundle_id, slug=args.init_slug)
    project = written.project
    print(f"{project.name} ({project.slug} {project.version}): wrote " +
          ", ".join(str(p.relative_to(project.root)) for p in written.files) + ".")
    return 0


def _build(args: argparse.Namespace) -> int:
    project = project_here()
    if args.ci == "github":
        from desktop_app.freeze.workflow import write_github_workflow

        path = write_github_workflow(project)
        print(f"Wrote {path.relative_to(project.root)}: it builds {project.slug} on Linux, Windows and macOS "
              "and keeps the results as artifacts.")
        if "vars.DESKTOP_APP_SOURCE" in path.read_text(encoding="utf-8"):
            print("Before it runs, set the repository variable DESKTOP_APP_SOURCE to where pip finds desktop-app "
                  "(a git URL such as git+https://github.com/OWNER/desktop-app@v0.1.0, or a wheel's URL): "
                  "this one was installed from a folder, which CI cannot reach.")
        return 0
    from desktop_app.freeze import installers
    from desktop_app.freeze.bundle import build

    dist = Path(args.dist).absolute() if args.dist else project.root / "dist"
    installer = "deb" if args.deb else installers.kind() if args.installer else None
    for line in build(project, dist=dist, installer=installer):
        print(line, flush=True)
    return 0
