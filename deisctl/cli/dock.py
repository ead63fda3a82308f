"""`deisctl dock COMPONENT [--] [CMD ...]`: a command inside `deis-COMPONENT` on its node."""

from __future__ import annotations

import sys
from typing import Optional

import click

from deisctl import keys
from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.node_options import Reach, node_options, resolve
from deisctl.cli.options import invocation, state_of
from deisctl.errors import EXIT_CODE_HELP


# Everything after COMPONENT belongs to CMD, options included (`dock router ls -la`).
@click.command("dock", cls=DeisctlCommand, epilog=EXIT_CODE_HELP,
               context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
@node_options(django=False)
@click.argument("component", metavar="COMPONENT")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[--] [CMD]...")
@click.pass_context
def dock(ctx: click.Context, component: str, command: tuple[str, ...], **node_values: Optional[str]) -> None:
    """Run CMD (default sh) inside the deis-COMPONENT container on the component's node.

    stdin, stdout and stderr are streamed; a terminal gets a pty. The exit code is
    the command's own; deisctl's failures before it runs use the exit codes below.
    The node is --host, else the <prefix>/COMPONENT/host key in etcd.
    """
    keys.validate_component(component)
    settings = invocation(ctx).settings
    node = resolve(ctx, node_values, settings, component)
    argv = list(command or ["sh"])
    tty = bool(sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty())
    if node.runtime != "none":
        argv = [node.runtime, "exec", "-i", *(["-t"] if tty else []), f"deis-{component}", *argv]
    with Reach(settings, node) as r:
        session = r.connect(r.host_of(component))
        status = session.stream(argv, pty=tty, timeout=node.remote_timeout)
    return _Outcome(status)


class _Outcome:  # transitional: this module moves to deisctl.ops
    def __init__(self, exit_code, error=None):
        self.exit_code, self.error = exit_code, error
