"""The options that say how to reach a node over SSH, declared once for `users`, `dock` and `check`.

`@node_options(...)` adds them to a command. On a group (`users --host h revoke-token`) the
callback keeps its values with `remember`; `layers` hands the operation the group's flags and
then the sub-command's, so the sub-command's win. The environment, the context and the
defaults are applied by the operation (deisctl.ops.reach, deisctl.ssh.options): flag >
DEISCTL_<NAME> > context > default. Nothing here imports paramiko.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from deisctl import controller
from deisctl.cli import completion
from deisctl.ssh import options as ssh

_META = "deisctl.node-options"  # ctx.meta: the values given on the group

# name: (flag, metavar, help); the environment variable is DEISCTL_<NAME>. Defaults come from
# their homes (ssh.options, controller), so that the help cannot drift from what is done.
_CONNECTION = {
    "host": ("--host", "HOST", "Node to SSH to. [default: the <prefix>/<component>/host key in etcd]"),
    "ssh_user": ("--ssh-user", "USER", f"SSH login user. [default: {ssh.DEFAULT_SSH_USER}]"),
    "ssh_port": ("--ssh-port", "PORT", f"SSH port of the node. [default: {ssh.DEFAULT_SSH_PORT}]"),
    "ssh_key": ("--ssh-key", "FILE",
                "Private key to log in with. [default: the SSH agent, then "
                + ", ".join(ssh.DEFAULT_KEY_FILES) + "]"),
    "known_hosts": ("--known-hosts", "FILE",
                    f"known_hosts file checked (and extended by accept-new). [default: {ssh.DEFAULT_KNOWN_HOSTS}]"),
    "strict_host_key_checking": ("--strict-host-key-checking", "|".join(ssh.HOST_KEY_POLICIES),
                                 "yes: refuse unknown host keys; accept-new: record them. A changed key is "
                                 f"always refused. [default: {ssh.HOST_KEY_POLICIES[0]}]"),
    "ssh_timeout": ("--ssh-timeout", "SECONDS",
                    "Time allowed for each of connect, SSH handshake, login and channel open. "
                    f"[default: {ssh.DEFAULT_SSH_TIMEOUT:g}]"),
    "remote_timeout": ("--remote-timeout", "SECONDS",
                       f"Time allowed for the remote command. [default: {controller.DEFAULT_REMOTE_TIMEOUT:g} for "
                       "users, none for dock]"),
    "runtime": ("--runtime", "|".join(controller.RUNTIMES),
                "How to reach the component: docker/podman exec into its container, or none: run on the node "
                f"itself. [default: {controller.RUNTIMES[0]}]"),
}
_DJANGO = {
    "container": ("--container", "NAME", f"Controller container. [default: {controller.DEFAULT_CONTAINER}]"),
    "app_dir": ("--app-dir", "DIR",
                "Directory of the controller's manage.py: with --runtime none, on the node "
                f"[default: {controller.DEFAULT_APP_DIR}]; else inside the container [default: the image's working dir]."),
    "python": ("--python", "PROGRAM", f"Python interpreter that runs manage.py. [default: {controller.DEFAULT_PYTHON}]"),
}


# Options with a fixed list of values complete them.
_choices = {"strict_host_key_checking": completion.choices(ssh.HOST_KEY_POLICIES),
            "runtime": completion.choices(controller.RUNTIMES)}


def flags() -> set:
    """Every node option's flag (--host, --ssh-user, ..., --container)."""
    return {flag for flag, _metavar, _help in (*_CONNECTION.values(), *_DJANGO.values())}


DJANGO_ALL = tuple(_DJANGO)  # users: the container, and manage.py's directory and interpreter
CONTAINER_ONLY = ("container",)  # check: inspects the container, runs no manage.py


def node_options(*, django: tuple = ()) -> Callable:
    """Add the connection options and the named controller options (only those the command
    uses: its help lists nothing it ignores) to a command; the callback receives them as keyword
    arguments (None: not given)."""
    specs = dict(_CONNECTION, **{name: _DJANGO[name] for name in django})

    def decorate(fn: Callable) -> Callable:
        for name, (flag, metavar, help_text) in reversed(specs.items()):
            fn = click.option(flag, name, metavar=metavar, help=f"{help_text} [env: DEISCTL_{name.upper()}]",
                              shell_complete=_choices.get(name))(fn)
        return fn

    return decorate


def remember(ctx: click.Context, values: dict) -> None:
    """On a group (`users`): keep its node options for the sub-command, whose own flags win."""
    ctx.meta.setdefault(_META, []).append(values)


def layers(ctx: click.Context, values: dict) -> list[dict[str, Any]]:
    """The node option flags given: the groups' (outermost first), then the command's own."""
    return [*ctx.meta.get(_META, []), values]
