"""`dock COMPONENT [CMD ...]`: a command inside deis-COMPONENT on the component's node, with the
invocation's streams attached; deisctl then exits with the command's own status."""

from __future__ import annotations

from typing import NamedTuple, Sequence

from deisctl import keys
from deisctl.errors import declares_outcome
from deisctl.node import NodeOptions
from deisctl.ops.reach import Reach

DEFAULT_COMMAND = ("sh",)


@declares_outcome
class DockResult(NamedTuple):
    exit_code: int  # the remote command's exit status


def command_argv(runtime: str, component: str, command: Sequence[str], tty: bool) -> list[str]:
    """The argv run on the node: CMD itself with --runtime none, else `<runtime> exec -i [-t]`
    into deis-COMPONENT (-t only when a pty is given: a terminal on our side)."""
    argv = list(command or DEFAULT_COMMAND)
    if runtime == "none":
        return argv
    return [runtime, "exec", "-i", *(["-t"] if tty else []), f"deis-{component}", *argv]


def dock(inv, component: str, command: Sequence[str], node: NodeOptions) -> DockResult:
    """Run command (default sh) in the component's container; stream stdin/stdout/stderr, a pty
    when the invocation is on a terminal; no --remote-timeout by default."""
    from deisctl.ssh.stream import stream

    keys.validate_component(component)
    tty = inv.pty
    argv = command_argv(node.runtime, component, command, tty)
    with Reach(inv, node) as reach:
        session = reach.connect(reach.host_of(component))
        status = stream(session, argv, stdin=inv.stdin, stdout=inv.stdout, stderr=inv.stderr, pty=tty,
                        timeout=node.remote_timeout, term=inv.env.get("TERM") or "xterm")
    return DockResult(status)
