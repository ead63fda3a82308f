"""The options that say how to reach a node over SSH, defined once for `users` and `dock`.

`@node_options(...)` adds them to a Typer command.  On a group callback they also
read DEISCTL_<NAME>; repeated on its sub-commands they take flags only, so that
`deisctl users revoke-token bob --host n1` works and a flag always beats the
environment.  Nothing here imports paramiko: that happens when a node is dialled.
"""

from __future__ import annotations

import functools
import inspect
import typing
from typing import Any, Callable, Optional

import typer

from deisctl.errors import NotFoundError, UsageError

_META = "deisctl.node-options"

# name: (type, flag, metavar, help); the env variable is DEISCTL_<NAME>.
_CONNECTION = {
    "host": (str, "--host", "HOST", "Node to SSH to. [default: the <prefix>/<component>/host key in etcd]"),
    "ssh_user": (str, "--ssh-user", "USER", "SSH login user. [default: core]"),
    "ssh_port": (int, "--ssh-port", "PORT", "SSH port of the node. [default: 22]"),
    "ssh_key": (str, "--ssh-key", "FILE",
                "Private key to log in with. [default: the SSH agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa]"),
    "known_hosts": (str, "--known-hosts", "FILE",
                    "known_hosts file checked (and extended by accept-new). [default: ~/.ssh/known_hosts]"),
    "strict_host_key_checking": (str, "--strict-host-key-checking", "yes|accept-new",
                                 "yes: refuse unknown host keys; accept-new: record them. A changed key is "
                                 "always refused. [default: yes]"),
    "ssh_timeout": (float, "--ssh-timeout", "SECONDS",
                    "Time allowed for each of connect, SSH handshake, login and channel open. [default: 10]"),
    "remote_timeout": (float, "--remote-timeout", "SECONDS",
                       "Time allowed for the remote command. [default: 120 for users, none for dock]"),
    "runtime": (str, "--runtime", "docker|podman|none",
                "How to reach the component: docker/podman exec into its container, or none: run on the node "
                "itself. [default: docker]"),
}
_DJANGO = {
    "container": (str, "--container", "NAME", "Controller container. [default: deis-controller]"),
    "app_dir": (str, "--app-dir", "DIR",
                "Directory of the controller's manage.py: with --runtime none, on the node [default: /app]; "
                "else inside the container [default: the image's working dir]."),
    "python": (str, "--python", "PROGRAM", "Python interpreter that runs manage.py. [default: python]"),
}


def node_options(*, django: bool, envvar: bool) -> Callable:
    """Add the node options to a command `fn(ctx, ...)`; their values go to ctx.meta for `resolve`."""
    specs = dict(_CONNECTION, **(_DJANGO if django else {}))

    def decorate(fn: Callable) -> Callable:
        params = []
        for name, (kind, flag, metavar, help_text) in specs.items():
            env = f"DEISCTL_{name.upper()}" if envvar else None
            option = typer.Option(None, flag, envvar=env, metavar=metavar, help=help_text,
                                  show_envvar=envvar)
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                            annotation=Optional[kind]))
        hints = typing.get_type_hints(fn)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values()]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any):
            values = {name: kwargs.pop(name) for name in specs}
            ctx = kwargs.get("ctx") or next(a for a in args if isinstance(a, typer.Context))
            # Group callback first, sub-command after: later non-None values win.
            layers = ctx.meta.setdefault(_META, [])
            layers.append(values)
            return fn(*args, **kwargs)

        wrapper.__signature__ = inspect.Signature([*own, *params])
        wrapper.__annotations__ = {**hints, **{p.name: p.annotation for p in params}}
        del wrapper.__wrapped__  # so that Typer reads the signature above, not fn's
        return wrapper

    return decorate


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


def resolve(ctx: typer.Context, component: str = "controller") -> NodeOptions:
    from deisctl import contexts

    settings = ctx.find_root().obj
    from_context = dict(_FROM_CONTEXT)
    if component == "controller":  # the context names the controller's node only
        from_context["host"] = "controller_host"
    merged = {ours: contexts.value(settings, theirs) for ours, theirs in from_context.items()}
    for layer in ctx.meta.get(_META, []):
        merged.update({k: v for k, v in layer.items() if v is not None})
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
    typer.echo(message, err=True)
