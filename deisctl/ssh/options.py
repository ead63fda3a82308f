"""How to log in to a node or the bastion, and the one precedence rule of every node option:
flag > DEISCTL_<NAME> environment variable > context value > default.

Used by the node options of `users`, `dock` and `check --controller` and by the bastion login
of `--tunnel` for commands without SSH flags (`config`, `check`). Pure: no I/O, no paramiko;
everything here runs before anything is dialled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from deisctl.errors import UsageError

DEFAULT_SSH_USER = "core"  # the login user of Deis (CoreOS) nodes
DEFAULT_SSH_PORT = 22
DEFAULT_SSH_TIMEOUT = 10.0
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
HOST_KEY_POLICIES = ("yes", "accept-new")

# The SSH login options (their flags are --ssh-user, ..., environment DEISCTL_<NAME upper>).
SSH_NAMES = ("ssh_user", "ssh_port", "ssh_key", "known_hosts", "strict_host_key_checking", "ssh_timeout")
# Option -> the context file's key (deisctl.contexts.KEYS) that fills it in.
SSH_CONTEXT_KEYS = {"ssh_user": "ssh_user", "ssh_key": "ssh_key", "ssh_port": "ssh_port",
                    "known_hosts": "known_hosts"}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def env_name(name: str) -> str:
    return "DEISCTL_" + name.upper()


def resolve(names: Sequence[str], flags: Sequence[Mapping[str, Any]], env: Mapping[str, str],
            context: Mapping[str, Any]) -> dict[str, Any]:
    """Each name's value: flag > DEISCTL_<NAME> > context > None (the default is applied later).

    `flags` are layers of given flags (None: not given), later layers win (a sub-command's flags
    over its group's); an empty environment variable counts as unset; `context` maps our names to
    the context's values."""
    values: dict[str, Any] = {}
    for name in names:
        given = [layer[name] for layer in flags if layer.get(name) is not None]
        if given:
            values[name] = given[-1]
        elif env.get(env_name(name)):
            values[name] = env[env_name(name)]
        else:
            values[name] = context.get(name)
    return values


def number(kind, name: str, value):
    """value as int/float (None stays None); a UsageError naming the option otherwise."""
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"{flag(name)} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class SSHOptions:
    """How to log in to a node (and to the bastion): resolved, validated values."""

    user: str = DEFAULT_SSH_USER
    port: int = DEFAULT_SSH_PORT
    key_file: Optional[str] = None  # None: the SSH agent, then the usual ~/.ssh/id_* files
    known_hosts: Optional[str] = None  # None: ~/.ssh/known_hosts (+ the global file, read only)
    strict_host_key_checking: str = "yes"
    timeout: float = DEFAULT_SSH_TIMEOUT

    @property
    def known_hosts_path(self) -> str:
        return os.path.expanduser(self.known_hosts or DEFAULT_KNOWN_HOSTS)

    @property
    def extra_known_hosts(self) -> tuple[str, ...]:
        """Read-only files consulted besides known_hosts_path: the global one unless a file was named."""
        return () if self.known_hosts else (GLOBAL_KNOWN_HOSTS,)


def ssh_options(*, user=None, port=None, key_file=None, known_hosts=None, strict=None,
                timeout=None) -> SSHOptions:
    """Apply defaults and check values (None = not given); fails before any I/O."""
    user = user or DEFAULT_SSH_USER
    if user.startswith("-") or any(c.isspace() or c in "@:" for c in user):
        raise UsageError(f"invalid --ssh-user {user!r}")
    port = DEFAULT_SSH_PORT if port is None else int(port)
    if not 0 < port < 65536:
        raise UsageError(f"invalid --ssh-port {port}", hint="1-65535")
    strict = (strict or "yes").lower()
    if strict not in HOST_KEY_POLICIES:
        raise UsageError(f"invalid --strict-host-key-checking {strict!r}", hint="yes or accept-new")
    timeout = DEFAULT_SSH_TIMEOUT if timeout is None else float(timeout)
    if not timeout > 0:
        raise UsageError(f"--ssh-timeout must be a positive number of seconds, got {timeout:g}")
    key_file = os.path.expanduser(key_file) if key_file else None
    known_hosts = os.path.expanduser(known_hosts) if known_hosts else None
    return SSHOptions(user, port, key_file, known_hosts, strict, timeout)


def from_values(values: Mapping[str, Any]) -> SSHOptions:
    """SSHOptions from resolved values named as in SSH_NAMES (numbers may still be text)."""
    return ssh_options(user=values.get("ssh_user"), port=number(int, "ssh_port", values.get("ssh_port")),
                       key_file=values.get("ssh_key"), known_hosts=values.get("known_hosts"),
                       strict=values.get("strict_host_key_checking"),
                       timeout=number(float, "ssh_timeout", values.get("ssh_timeout")))


def bastion_options(env: Mapping[str, str], context: Mapping[str, Any]) -> SSHOptions:
    """The bastion login of commands without SSH flags (`config`, `check`): DEISCTL_SSH_* > context
    (context-file keys, e.g. Settings.context_values) > default."""
    ours = {name: context.get(key) for name, key in SSH_CONTEXT_KEYS.items()}
    return from_values(resolve(SSH_NAMES, (), env, ours))


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    user: Optional[str] = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user + '@' if self.user else ''}{host}:{self.port}"


def check_host(host: str, where: str) -> str:
    """A node name or address as given by --host or the etcd heartbeat key."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or host.startswith("-") or any(c.isspace() or c in "/@\\'\"`$;" for c in host):
        raise UsageError(f"invalid host {host!r} from {where}")
    return host
