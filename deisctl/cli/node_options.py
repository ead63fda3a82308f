"""The node options as flags, made from their one declaration (deisctl.node.NODE_OPTIONS) for
the commands that reach a node (users, dock, check, backup, the platform commands).

`@node_options(...)` adds them to a command. On a group (`users --host h revoke-token`) the
callback keeps its values with `remember`; `resolved` turns the group's flags and then the
sub-command's (which win), the environment and the context into the one checked NodeOptions
the operation receives (deisctl.node.resolve: flag > DEISCTL_<NAME> > context > default).
Nothing here imports paramiko.
"""

from __future__ import annotations

from typing import Callable

import click

from deisctl import node
from deisctl.cli import completion
from deisctl.errors import UsageError
from deisctl.settings import env_name
from deisctl.ssh.options import Naming, flag

_META = "deisctl.node-options"  # ctx.meta: the values given on the group

DJANGO_ALL = node.DJANGO  # users: the container, and manage.py's directory and interpreter
CONTAINER_ONLY = node.CONTAINER_ONLY  # check: inspects the container, runs no manage.py


def flags() -> set:
    """Every node option's flag (--host, --ssh-user, ..., --container)."""
    return {flag(option.name) for option in node.NODE_OPTIONS}


def node_options(*, django: tuple = ()) -> Callable:
    """Add the connection options and the named controller options (only those the command
    uses: its help lists nothing it ignores) to a command; the callback receives them as keyword
    arguments (None: not given). Text as given: deisctl.node.resolve checks and converts it, so
    that a flag, its environment variable and the context are held to the same rule."""
    options = [option for option in node.NODE_OPTIONS if not option.django or option.name in django]

    def decorate(fn: Callable) -> Callable:
        for option in reversed(options):
            fn = click.option(flag(option.name), option.name, metavar=option.metavar,
                              help=f"{option.help} [env: {env_name(option.name)}]",
                              shell_complete=completion.choices(option.choices) if option.choices else None)(fn)
        return fn

    return decorate


def remote_command(command: tuple, name: str, target: str, placeholder: str) -> tuple:
    """The words after `deisctl dock|ssh [options] TARGET` that go to the node: a leading `--`
    dropped (`dock controller -- ls`, as kubectl exec's); a node option there refused, as it
    was meant for deisctl (`dock controller --ssh-port 2222 ls`) and would be run remotely."""
    import shlex

    if command[:1] == ("--",):
        return command[1:]
    if command and command[0].split("=", 1)[0] in flags():
        option = command[0].split("=", 1)[0]
        raise UsageError(f"{option} after {placeholder} would be part of the remote command",
                         hint=f"put it before {placeholder}, as in 'deisctl {name} {option} ... {target} ...'; to "
                              f"pass it to the command itself, write 'deisctl {name} {target} -- {shlex.join(command)}'")
    return command


def remember(ctx: click.Context, values: dict) -> None:
    """On a group (`users`): keep its node options for the sub-command, whose own flags win."""
    ctx.meta.setdefault(_META, []).append(values)


def resolved(ctx: click.Context, inv, values: dict, *, where: str = "") -> node.NodeOptions:
    """The command's node options: the groups' flags (outermost first), then its own, over the
    invocation's environment and context. where: where its flags go, for hints ("before
    COMPONENT" for dock, whose later words are the remote command's)."""
    return node.resolve(inv.env, inv.settings, [*ctx.meta.get(_META, []), values], Naming(flags=True, where=where))
