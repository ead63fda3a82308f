"""`deisctl status|list [COMPONENT...]`, `logs COMPONENT`, `restart COMPONENT`, `ssh COMPONENT|HOST`:
the platform's components on their nodes (deisctl.ops.platform), the Go deisctl's commands
without fleet."""

from __future__ import annotations

from typing import NamedTuple, Optional

import click

from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.node_options import node_options, remote_command, resolved
from deisctl.cli.options import invocation, output_option
from deisctl.errors import EXIT_CODE_HELP, ExitCode, declares_outcome
from deisctl.output import emit

STATUS_HELP = """One row per component and node: its heartbeat in etcd (host:port and the time its
lease has left, or missing/expired) and its container deis-COMPONENT there (running or exited,
since when, restarts, image), every node asked at once over SSH.

Nodes are those the heartbeats name, and the context's `nodes` (for components that publish none).
Exit 0 when every component that should run does, 1 when one is down (a node that does not answer
counts as down), 4 when etcd cannot be reached."""


def _status(ctx: click.Context, components: tuple[str, ...], fmt: Optional[str], **node_values):
    from deisctl.ops import platform as ops
    from deisctl.output import platform as views

    inv = invocation(ctx, fmt)
    result = ops.status(inv, resolved(ctx, inv, node_values), components)
    emit(inv, views.status(result))
    return result


def _status_command(name: str, short_help: str):
    command = click.pass_context(_status)
    command = node_options()(command)
    command = output_option(command)
    command = click.argument("components", nargs=-1, metavar="[COMPONENT]...")(command)
    return click.command(name, cls=DeisctlCommand, short_help=short_help, help=STATUS_HELP,
                         epilog=EXIT_CODE_HELP)(command)


status = _status_command("status", "Every component on its nodes: heartbeat and container.")
list_ = _status_command("list", "The same as status (the Go deisctl's name).")


@declares_outcome
class LogsResult(NamedTuple):
    exit_code: int  # 0, or 1 when a node's log could not be read to its end
    error: Optional[str]


@click.command("logs", cls=DeisctlCommand, short_help="A component's container log, from each of its nodes.",
               epilog=EXIT_CODE_HELP)
@click.argument("component")
@click.option("--node", "only", metavar="HOST", help="Only this node's. [default: every node the component runs on]")
@click.option("-f", "--follow", is_flag=True, help="Keep following the log until Ctrl-C.")
@click.option("--since", metavar="WHEN", help="Only what was logged since WHEN (the runtime's: 10m, 2026-12-06T10:00).")
@click.option("--tail", metavar="N", help="Only the last N lines of each node's log.")
@node_options()
@click.pass_context
def logs(ctx: click.Context, component: str, only: Optional[str], follow: bool, since: Optional[str],
         tail: Optional[str], **node_values):
    """The log of deis-COMPONENT on each node that runs it, streamed as it comes: the container's
    stdout on stdout, its stderr on stderr, each line prefixed with its node when there are
    several. Every byte from the node is shown escaped. A node whose stream stops is one line on
    stderr, and the others go on (exit 1 at the end). Ctrl-C ends `-f` (exit 0)."""
    from deisctl.ops import platform as ops
    from deisctl.output import platform as views

    inv = invocation(ctx)
    stream = ops.logs(inv, resolved(ctx, inv, node_values), component, only=only, follow=follow, since=since, tail=tail)
    several, failed = len(stream.nodes) > 1, []
    try:
        for event in stream.events:
            if isinstance(event, ops.LogLine):
                out = inv.stdout if event.stream == "stdout" else inv.stderr
                out.write(views.log_line(event, several) + "\n")
                out.flush()
            elif event.problem:
                failed.append(event.node)
                inv.warn(f"{event.node}: the log of {ops.CONTAINER_PREFIX}{component} stopped: {event.problem}")
    except KeyboardInterrupt:
        stream.events.close()
        if not follow:
            raise
        if not failed:
            return LogsResult(int(ExitCode.OK), None)  # Ctrl-C is how -f ends
    if failed:
        return LogsResult(int(ExitCode.FAILED), f"the log could not be read to its end on {', '.join(failed)}")
    return LogsResult(int(ExitCode.OK), None)


@click.command("restart", cls=DeisctlCommand, short_help="Restart a component's container and wait for it.",
               epilog=EXIT_CODE_HELP)
@click.argument("component")
@click.option("--node", "only", metavar="HOST", help="Only on this node. [default: every node the component runs on]")
@click.option("--rolling", is_flag=True, help="One node at a time, stopping at the first that does not come back.")
@click.option("--wait", metavar="SECONDS", help="Time allowed for each node to come back. [default: 60]")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Say where it would restart; restart nothing.")
@output_option
@node_options()
@click.pass_context
def restart(ctx: click.Context, component: str, only: Optional[str], rolling: bool, wait: Optional[str], yes: bool,
            dry_run: bool, fmt: Optional[str], **node_values):
    """Restart deis-COMPONENT on its nodes and wait until it runs again and its heartbeat is
    published anew; exit 1 saying what it saw when it does not. --rolling restarts the nodes of a
    multi-node component (routers) one at a time and stops at the first that does not come back.
    Asks on a terminal; without one, refused unless --yes. Each restart is recorded in the audit
    trail (the node and the outcome)."""
    from deisctl.ops import platform as ops
    from deisctl.output import platform as views

    inv = invocation(ctx, fmt)
    result = ops.restart(inv, resolved(ctx, inv, node_values), component, only=only, rolling=rolling, wait=wait, yes=yes,
                         dry_run=dry_run)
    emit(inv, views.restarted(result), wrote=not dry_run)
    return result


@click.command("ssh", cls=DeisctlCommand, short_help="A shell or a command on a component's node.",
               epilog=EXIT_CODE_HELP,
               context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
@node_options()
@click.argument("target", metavar="COMPONENT|HOST")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[--] [CMD]...")
@click.pass_context
def ssh(ctx: click.Context, target: str, command: tuple[str, ...], **node_values):
    """A login shell (a pty on a terminal), or CMD, on the node of COMPONENT (its heartbeat in
    etcd) or on HOST, with deisctl's host-key policy and node options; `dock` is the way into the
    container. The exit code is the command's own. The options go before COMPONENT|HOST; a
    leading `--` after it is dropped."""
    from deisctl.ops import platform as ops

    command = remote_command(command, "ssh", target, target)
    inv = invocation(ctx)
    return ops.ssh(inv, resolved(ctx, inv, node_values, where="before COMPONENT|HOST"), target, command)
