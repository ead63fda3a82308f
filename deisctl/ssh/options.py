"""How to log in to a node or the bastion, and the one precedence rule of every node option:
flag > DEISCTL_<NAME> environment variable > context value > default.

Used by the node options of `users`, `dock` and `check` (which also log in to the `--tunnel`
bastion with them) and by the bastion login of commands without SSH flags (`config`,
`registration`). Naming says how messages and hints name the options in each, so that what
they tell the user to pass is accepted there. Pure: no I/O, no paramiko; everything here runs
before anything is dialled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from deisctl.errors import UsageError
from deisctl.settings import env_name, first_given, given

DEFAULT_SSH_USER = "core"  # the login user of Deis (CoreOS) nodes
DEFAULT_SSH_PORT = 22
DEFAULT_SSH_TIMEOUT = 10.0
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_KEY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
HOST_KEY_POLICIES = ("yes", "accept-new")

# The SSH login options (their flags are --ssh-user, ..., environment DEISCTL_<NAME upper>).
SSH_NAMES = ("ssh_user", "ssh_port", "ssh_key", "known_hosts", "strict_host_key_checking", "ssh_timeout")
# Option -> the context file's key (deisctl.contexts.KEYS) that fills it in.
SSH_CONTEXT_KEYS = {"ssh_user": "ssh_user", "ssh_key": "ssh_key", "ssh_port": "ssh_port",
                    "known_hosts": "known_hosts"}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def resolve(names: Sequence[str], flags: Sequence[Mapping[str, Any]], env: Mapping[str, str],
            context: Mapping[str, Any], origins: Optional[dict] = None) -> dict[str, Any]:
    """Each name's value: flag > DEISCTL_<NAME> > context > None (the default is applied later).

    `flags` are layers of given flags (None: not given), later layers win (a sub-command's flags
    over its group's); an empty environment variable counts as unset; `context` maps our names to
    the context's values; what counts as given is settings.given's rule (None and "" are unset).
    `origins`, if given, receives where each value came from: "flag", "env" or "context" (a name
    left out: the default)."""
    values: dict[str, Any] = {}
    for name in names:
        layers = [layer.get(name) for layer in reversed(flags)]  # the innermost flag first
        candidates = (("flag", first_given(*layers)), ("env", env.get(env_name(name))), ("context", context.get(name)))
        origin, values[name] = next(((where, value) for where, value in candidates if given(value)), (None, None))
        if origins is not None and origin:
            origins[name] = origin
    return values


@dataclass(frozen=True)
class Naming:
    """How messages and hints name an SSH option, so that what they tell the user works in the
    command at hand: its flag where the command takes the SSH flags (`where`: where they go, e.g.
    "before COMPONENT" for dock, whose later words belong to the remote command), else
    DEISCTL_<NAME>, which beats the context; with `fields`, the name itself (deisctl.api's Node
    and the collection's options). `origins`: (name, "flag"|"env"|"context") pairs, for hints
    that must undo a value where it was set."""

    flags: bool = True
    where: str = ""
    origins: tuple = ()
    fields: bool = False

    def of(self, name: str) -> str:
        """What names the option's value in this command: --ssh-timeout, DEISCTL_SSH_TIMEOUT, or
        the context's key when the value came from there (in a command without the flags)."""
        if self.fields:
            return name
        if self.flags:
            return flag(name)
        if dict(self.origins).get(name) == "context":
            return f"the context's {SSH_CONTEXT_KEYS.get(name, name)}"
        return env_name(name)

    def setting(self, name: str, value: str) -> str:
        """What gives the option a value here: `--strict-host-key-checking accept-new` or
        `DEISCTL_STRICT_HOST_KEY_CHECKING=accept-new` (the environment beats the context)."""
        if self.fields:
            return f"{name}={value}"
        if self.flags:
            return f"{flag(name)} {value}" + (f" {self.where}" if self.where else "")
        return f"{env_name(name)}={value}"

    def give(self, name: str, value: str) -> str:
        """The advice to give the option a value: `pass --ssh-key FILE` or `set DEISCTL_SSH_KEY=FILE`."""
        return ("pass " if self.flags and not self.fields else "set ") + self.setting(name, value)

    def drop(self, name: str) -> str:
        """The advice to take a value away where it was set: omit the flag, unset the variable or
        remove the context's key."""
        origin = dict(self.origins).get(name)
        if origin == "env":
            return f"unset {env_name(name)}"
        if origin == "context":
            return f"remove {SSH_CONTEXT_KEYS.get(name, name)} from the context"
        return f"leave {name} unset" if self.fields else f"omit {flag(name)}"


FLAGS = Naming()  # a command with the SSH flags (users, check)
FIELDS = Naming(fields=True)  # deisctl.api.Node and the collection: the options by name


def number(kind, name: str, value, naming: Naming = FLAGS):
    """value as int/float (None stays None); a UsageError naming the option otherwise."""
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"{naming.of(name)} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class SSHOptions:
    """How to log in to a node (and to the bastion): resolved, validated values."""

    user: str = DEFAULT_SSH_USER
    port: int = DEFAULT_SSH_PORT
    key_file: Optional[str] = None  # None: the SSH agent, then the usual ~/.ssh/id_* files
    known_hosts: Optional[str] = None  # None: ~/.ssh/known_hosts (+ the global file, read only)
    strict_host_key_checking: str = "yes"
    timeout: float = DEFAULT_SSH_TIMEOUT
    naming: Naming = field(default=FLAGS, compare=False)  # how messages name these options here
    home: str = ""  # what ~ stands for (the invocation's HOME); "": the account's home directory
    agent_socket: str = ""  # the invocation's SSH_AUTH_SOCK ("": no agent)

    def _expand(self, path: str) -> str:
        from deisctl.localfiles import expand_user

        return expand_user(path, {"HOME": self.home} if self.home else {})

    @property
    def known_hosts_path(self) -> str:
        return self.known_hosts or self._expand(DEFAULT_KNOWN_HOSTS)

    @property
    def default_key_files(self) -> tuple[str, ...]:
        """The keys tried after the agent when no --ssh-key is given, as OpenSSH does."""
        return tuple(self._expand(path) for path in DEFAULT_KEY_FILES)

    @property
    def extra_known_hosts(self) -> tuple[str, ...]:
        """Read-only files consulted besides known_hosts_path: the global one unless a file was named."""
        return () if self.known_hosts else (GLOBAL_KNOWN_HOSTS,)


def ssh_options(*, user=None, port=None, key_file=None, known_hosts=None, strict=None,
                timeout=None, naming: Naming = FLAGS, env: Mapping[str, str] = {}) -> SSHOptions:
    """Apply defaults and check values (None = not given); fails before any I/O. env: the
    invocation's environment, whose HOME is what ~ stands for."""
    from deisctl.localfiles import expand_user

    user = user or DEFAULT_SSH_USER
    if user.startswith("-") or any(c.isspace() or c in "@:" for c in user):
        raise UsageError(f"invalid {naming.of('ssh_user')} {user!r}")
    port = DEFAULT_SSH_PORT if port is None else int(port)
    if not 0 < port < 65536:
        raise UsageError(f"invalid {naming.of('ssh_port')} {port}", hint="1-65535")
    strict = (strict or "yes").lower()
    if strict not in HOST_KEY_POLICIES:
        raise UsageError(f"invalid {naming.of('strict_host_key_checking')} {strict!r}", hint="yes or accept-new")
    timeout = DEFAULT_SSH_TIMEOUT if timeout is None else float(timeout)
    if not timeout > 0:
        raise UsageError(f"{naming.of('ssh_timeout')} must be a positive number of seconds, got {timeout:g}")
    key_file = expand_user(key_file, env) if key_file else None
    known_hosts = expand_user(known_hosts, env) if known_hosts else None
    return SSHOptions(user, port, key_file, known_hosts, strict, timeout, naming, env.get("HOME") or "",
                      env.get("SSH_AUTH_SOCK") or "")


def from_values(values: Mapping[str, Any], naming: Naming = FLAGS, env: Mapping[str, str] = {}) -> SSHOptions:
    """SSHOptions from resolved values named as in SSH_NAMES (numbers may still be text)."""
    return ssh_options(user=values.get("ssh_user"), port=number(int, "ssh_port", values.get("ssh_port"), naming),
                       key_file=values.get("ssh_key"), known_hosts=values.get("known_hosts"),
                       strict=values.get("strict_host_key_checking"),
                       timeout=number(float, "ssh_timeout", values.get("ssh_timeout"), naming), naming=naming,
                       env=env)


def bastion_options(env: Mapping[str, str], context: Mapping[str, Any]) -> SSHOptions:
    """The bastion login of commands without SSH flags (`config`, `registration`, ...):
    DEISCTL_SSH_* > context (context-file keys, e.g. Settings.context_values) > default. Its
    messages and hints name the environment variables, as those commands take no SSH flag."""
    ours = {name: context.get(key) for name, key in SSH_CONTEXT_KEYS.items()}
    origins: dict = {}
    values = resolve(SSH_NAMES, (), env, ours, origins)
    return from_values(values, Naming(flags=False, origins=tuple(sorted(origins.items()))), env)


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
    if not host or host.startswith("-") or any(c.isspace() or not c.isprintable() or c in "/@\\'\"`$;" for c in host):
        raise UsageError(f"invalid host {host!r} from {where}")
    return host
