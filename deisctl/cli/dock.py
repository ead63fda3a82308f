"""`deisctl dock COMPONENT [CMD ...]`: a command inside `deis-COMPONENT` on its node."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from deisctl import keys
from deisctl.errors import EXIT_CODE_HELP
from deisctl.cli.node_options import Reach, node_options, resolve


@node_options(django=False, envvar=True)
def dock(
    ctx: typer.Context,
    component: str = typer.Argument(..., metavar="COMPONENT", help="e.g. controller, router, registry."),
    command: Optional[List[str]] = typer.Argument(None, metavar="[CMD]...",
                                                  help="Command and arguments to run. [default: sh]"),
) -> None:
    """Run CMD (default sh) inside the deis-COMPONENT container on the component's node.

    stdin, stdout and stderr are streamed; a terminal gets a pty. The exit code is
    the command's own; deisctl's failures before it runs use the exit codes below.
    The node is --host, else the <prefix>/COMPONENT/host key in etcd.
    """
    keys.validate_component(component)
    node = resolve(ctx, component)
    argv = list(command or ["sh"])
    tty = bool(sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty())
    if node.runtime != "none":
        argv = [node.runtime, "exec", "-i", *(["-t"] if tty else []), f"deis-{component}", *argv]
    with Reach(ctx.find_root().obj, node) as r:
        session = r.connect(r.host_of(component))
        status = session.stream(argv, pty=tty, timeout=node.remote_timeout)
    raise typer.Exit(status)


# Everything after COMPONENT belongs to CMD, options included (`dock router ls -la`).
dock_app = typer.Typer(add_completion=False, rich_markup_mode=None)
dock_app.command("dock", epilog=EXIT_CODE_HELP,
                 context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})(dock)
