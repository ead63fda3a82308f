"""The options that say how to reach a node over SSH, defined once for `users` and `dock`.

`@node_options(...)` adds them to a Typer command.  On a group callback they also
read DEISCTL_<NAME>; repeated on its sub-commands they take flags only, so that
`deisctl users revoke-token bob --host n1` works and a flag always beats the
environment.  Nothing here imports paramiko: that happens when a node is dialled.
"""

from __future__ import annotations

from typing import Callable, Optional

import click

from deisctl.errors import NotFoundError, UsageError

_META = "deisctl.node-options"  # ctx.meta: the values given on the group (`users --host h revoke-token`)

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
    (None: not given). Each also reads DEISCTL_<NAME> (see resolve)."""
    specs = dict(_CONNECTION, **(_DJANGO if django else {}))

    def decorate(fn: Callable) -> Callable:
        for name, (flag, metavar, help_text) in reversed(specs.items()):
            fn = click.option(flag, name, metavar=metavar, help=f"{help_text} [env: DEISCTL_{name.upper()}]")(fn)
        return fn

    return decorate


def remember(ctx: click.Context, values: dict) -> None:
    """On a group (`users`): keep its node options for the sub-command, whose own flags win."""
    ctx.meta.setdefault(_META, []).append(values)


def _number(kind, name: str, value):
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        flag = _CONNECTION.get(name, (f"--{name}",))[0]
        raise UsageError(f"{flag} must be a number, got {value!r}") from None


class NodeOptions:
    """Resolved, checked node options of one command (flag > DEISCTL_* > context > default)."""

    def __init__(self, values: dict):
        from deisctl import controller, remote

        self.host = values.get("host")
        self.ssh = remote.ssh_options(user=values.get("ssh_user"), port=values.get("ssh_port"),
                                      key_file=values.get("ssh_key"), known_hosts=values.get("known_hosts"),
                                      strict=values.get("strict_host_key_checking"),
                                      timeout=values.get("ssh_timeout"))
        self.remote_timeout = values.get("remote_timeout")
        if self.remote_timeout is not None and not self.remote_timeout > 0:
            raise UsageError(f"--remote-timeout must be a positive number of seconds, got {self.remote_timeout:g}")
        self.runtime = (values.get("runtime") or "docker").lower()
        if self.runtime not in controller.RUNTIMES:
            raise UsageError(f"invalid --runtime {self.runtime!r}", hint="docker, podman or none")
        self.container = controller.validate_container(values.get("container") or controller.DEFAULT_CONTAINER)
        self.app_dir = values.get("app_dir")
        if self.app_dir is not None and not self.app_dir.startswith("/"):
            raise UsageError(f"--app-dir must be an absolute path, got {self.app_dir!r}")
        self.python = values.get("python") or controller.DEFAULT_PYTHON
        if self.python.startswith("-") or not self.python.strip():
            raise UsageError(f"invalid --python {self.python!r}")


# Our option -> the context file's key (deisctl.contexts): flag > DEISCTL_* > context > default.
_FROM_CONTEXT = {"ssh_user": "ssh_user", "ssh_key": "ssh_key", "ssh_port": "ssh_port",
                 "known_hosts": "known_hosts"}


def resolve(ctx: click.Context, values: dict, settings, component: str = "controller") -> "NodeOptions":
    """Node options: flag (sub-command over group) > DEISCTL_<NAME> > context > default."""
    from deisctl import contexts

    from_context = dict(_FROM_CONTEXT)
    if component == "controller":  # the context names the controller's node only
        from_context["host"] = "controller_host"
    merged = {ours: contexts.value(settings, theirs) for ours, theirs in from_context.items()}
    names = list(_CONNECTION) + list(_DJANGO)
    merged.update({n: settings.env[f"DEISCTL_{n.upper()}"] for n in names if settings.env.get(f"DEISCTL_{n.upper()}")})
    for layer in [*ctx.meta.get(_META, []), values]:
        merged.update({k: v for k, v in layer.items() if v is not None})
    merged["ssh_port"] = _number(int, "ssh_port", merged.get("ssh_port"))
    merged["ssh_timeout"] = _number(float, "ssh_timeout", merged.get("ssh_timeout"))
    merged["remote_timeout"] = _number(float, "remote_timeout", merged.get("remote_timeout"))
    return NodeOptions(merged)


class Reach:
    """What one command opens to get to a node: the bastion tunnel (with --tunnel), etcd for the
    node's address when --host is absent, and the SSH session to the node.  Closed together."""

    def __init__(self, settings, node: NodeOptions):
        self.settings, self.node = settings, node
        self.tunnel = None
        self._sessions: list = []

    def __enter__(self) -> "Reach":
        return self

    def __exit__(self, *exc) -> None:
        for session in self._sessions:
            session.close()
        if self.tunnel is not None:
            self.tunnel.close()

    def _open_tunnel(self):
        if self.settings.tunnel and self.tunnel is None:
            from deisctl import remote

            self.tunnel = remote.open_tunnel(self.settings.tunnel, self.node.ssh)
        return self.tunnel

    def host_of(self, component: str) -> str:
        """--host, else the component's heartbeat key <prefix>/<component>/host in etcd."""
        from deisctl import remote

        if self.node.host:
            return remote.check_host(self.node.host, "--host")
        from deisctl.store import Store  # gRPC: only when etcd is needed

        key = f"{self.settings.prefix}/{component}/host"
        with Store(self.settings, via=self._open_tunnel()) as store:
            found = store.get(key)
        if found is None or not found.text.strip():
            raise NotFoundError(f"no address for the {component}: {key} is not set in etcd "
                                "(the heartbeat key expires when the component stops)",
                                hint="pass --host HOST or set DEISCTL_HOST")
        return remote.check_host(found.text, key)

    def connect(self, host: str):
        from deisctl import remote

        tunnel = self._open_tunnel()
        session = remote.connect(host, self.node.ssh, via=tunnel.session if tunnel else None, note=_note)
        self._sessions.append(session)
        return session


def _note(message: str) -> None:
    import sys

    sys.stderr.write(message + "\n")
