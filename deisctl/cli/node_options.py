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

_META = "deisctl.node-options"  # ctx.meta: the values given on the group

# name: (flag, metavar, help); the environment variable is DEISCTL_<NAME>.
_CONNECTION = {
    "host": ("--host", "HOST", "Node to SSH to. [default: the <prefix>/<component>/host key in etcd]"),
    "ssh_user": ("--ssh-user", "USER", "SSH login user. [default: core]"),
    "ssh_port": ("--ssh-port", "PORT", "SSH port of the node. [default: 22]"),
    "ssh_key": ("--ssh-key", "FILE",
                "Private key to log in with. [default: the SSH agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa]"),
    "known_hosts": ("--known-hosts", "FILE",
                    "known_hosts file checked (and extended by accept-new). [default: ~/.ssh/known_hosts]"),
    "strict_host_key_checking": ("--strict-host-key-checking", "yes|accept-new",
                                 "yes: refuse unknown host keys; accept-new: record them. A changed key is "
                                 "always refused. [default: yes]"),
    "ssh_timeout": ("--ssh-timeout", "SECONDS",
                    "Time allowed for each of connect, SSH handshake, login and channel open. [default: 10]"),
    "remote_timeout": ("--remote-timeout", "SECONDS",
                       "Time allowed for the remote command. [default: 120 for users, none for dock]"),
    "runtime": ("--runtime", "docker|podman|none",
                "How to reach the component: docker/podman exec into its container, or none: run on the node "
                "itself. [default: docker]"),
}
_DJANGO = {
    "container": ("--container", "NAME", "Controller container. [default: deis-controller]"),
    "app_dir": ("--app-dir", "DIR",
                "Directory of the controller's manage.py: with --runtime none, on the node [default: /app]; "
                "else inside the container [default: the image's working dir]."),
    "python": ("--python", "PROGRAM", "Python interpreter that runs manage.py. [default: python]"),
}


def node_options(*, django: bool) -> Callable:
    """Add the node options to a command; the callback receives them as keyword arguments
    (None: not given)."""
    specs = dict(_CONNECTION, **(_DJANGO if django else {}))

    def decorate(fn: Callable) -> Callable:
        for name, (flag, metavar, help_text) in reversed(specs.items()):
            fn = click.option(flag, name, metavar=metavar, help=f"{help_text} [env: DEISCTL_{name.upper()}]")(fn)
        return fn

    return decorate


def remember(ctx: click.Context, values: dict) -> None:
    """On a group (`users`): keep its node options for the sub-command, whose own flags win."""
    ctx.meta.setdefault(_META, []).append(values)


def layers(ctx: click.Context, values: dict) -> list[dict[str, Any]]:
    """The node option flags given: the groups' (outermost first), then the command's own."""
    return [*ctx.meta.get(_META, []), values]
