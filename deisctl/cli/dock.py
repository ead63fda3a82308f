"""`deisctl dock COMPONENT [--] [CMD ...]`: a command inside `deis-COMPONENT` on its node
(deisctl.ops.dock)."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.node_options import node_options, remote_command, resolved
from deisctl.cli.options import invocation
from deisctl.errors import EXIT_CODE_HELP


# Everything after COMPONENT belongs to CMD, options included (`dock router ls -la`), except a
# leading `--`, which ends deisctl's options (`dock controller -- hostname`).
@click.command("dock", cls=DeisctlCommand, short_help="Run a command in a component's container.", epilog=EXIT_CODE_HELP,
               context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
@node_options()
@click.argument("component", metavar="COMPONENT")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[--] [CMD]...")
@click.pass_context
def dock(ctx: click.Context, component: str, command: tuple[str, ...], **node_values: Optional[str]):
    """Run CMD (default sh) inside the deis-COMPONENT container on the component's node.

    stdin, stdout and stderr are streamed; a terminal gets a pty. The exit code is
    the command's own; deisctl's failures before it runs use the exit codes below.
    The node is --host, else the <prefix>/COMPONENT/host key in etcd.

    The options below go before COMPONENT: every word after it is CMD's, except a
    leading `--`, which is dropped (`dock controller -- ls -l`, as with `kubectl exec`).
    """
    from deisctl.ops import dock as ops

    command = remote_command(command, "dock", component, "COMPONENT")
    inv = invocation(ctx)
    node = resolved(ctx, inv, node_values, where="before COMPONENT")  # the later words are CMD's
    return ops.dock(inv, component, command, node)  # nothing to render: the command's own output
