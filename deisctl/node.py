"""The node options: where a node is, how to log in to it, and how to run things there. They
are declared once here and resolved once at each door into one checked, immutable NodeOptions.

NODE_OPTIONS declares each one: its name, type, choices, metavar and help (with its default).
The name gives everything else: the flag is --name-with-dashes, the environment variable is
settings.env_name(name), and api.Node's field and the collection's option are the name itself.
The CLI makes its flags from this (cli/node_options.py). api.Node and the collection's
NODE_ARGS are tested against it (tests/unit/test_doors.py).

resolve() applies the one precedence rule: flag > DEISCTL_<NAME> > context > default, with a
sub-command's flag over its group's. It checks every value before anything is dialled.
Operations receive the result, never flags. Nothing here imports paramiko.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, NamedTuple, Optional, Sequence

from deisctl import controller
from deisctl.errors import UsageError
from deisctl.ssh import options as ssh
from deisctl.ssh.options import Naming, SSHOptions


@dataclass(frozen=True)
class NodeOption:
    name: str
    type: type  # str, int or float: what api.Node and the collection take (the CLI parses text into it)
    metavar: str
    help: str  # ends with its [default: ...]
    choices: tuple = ()
    path: bool = False  # a file or directory name (~ is expanded)
    django: bool = False  # only where the controller's manage.py runs or its container is looked at


NODE_OPTIONS = (
    NodeOption("host", str, "HOST", "Node to SSH to. [default: the <prefix>/<component>/host key in etcd]"),
    NodeOption("ssh_user", str, "USER", f"SSH login user. [default: {ssh.DEFAULT_SSH_USER}]"),
    NodeOption("ssh_port", int, "PORT", f"SSH port of the node. [default: {ssh.DEFAULT_SSH_PORT}]"),
    NodeOption("ssh_key", str, "FILE", "Private key to log in with. [default: the SSH agent, then "
               + ", ".join(ssh.DEFAULT_KEY_FILES) + "]", path=True),
    NodeOption("known_hosts", str, "FILE", "known_hosts file checked (and extended by accept-new). "
               f"[default: {ssh.DEFAULT_KNOWN_HOSTS}]", path=True),
    NodeOption("strict_host_key_checking", str, "|".join(ssh.HOST_KEY_POLICIES),
               "yes: refuse unknown host keys; accept-new: record them. A changed key is always refused. "
               f"[default: {ssh.HOST_KEY_POLICIES[0]}]", choices=ssh.HOST_KEY_POLICIES),
    NodeOption("ssh_timeout", float, "SECONDS", "Time allowed for each of connect, SSH handshake, login and "
               f"channel open. [default: {ssh.DEFAULT_SSH_TIMEOUT:g}]"),
    NodeOption("remote_timeout", float, "SECONDS", "Time allowed for the remote command. "
               f"[default: {controller.DEFAULT_REMOTE_TIMEOUT:g} for users, none for dock]"),
    NodeOption("runtime", str, "|".join(controller.RUNTIMES), "How to reach the component: docker/podman exec "
               "into its container, or none: run on the node itself. "
               f"[default: {controller.RUNTIMES[0]}]", choices=controller.RUNTIMES),
    NodeOption("container", str, "NAME", f"Controller container. [default: {controller.DEFAULT_CONTAINER}]",
               django=True),
    NodeOption("app_dir", str, "DIR", "Directory of the controller's manage.py: with --runtime none, on the "
               f"node [default: {controller.DEFAULT_APP_DIR}]; else inside the container [default: the image's "
               "working dir].", path=True, django=True),
    NodeOption("python", str, "PROGRAM", "Python interpreter that runs manage.py. "
               f"[default: {controller.DEFAULT_PYTHON}]", django=True),
)
NAMES = tuple(option.name for option in NODE_OPTIONS)
CONNECTION = tuple(option.name for option in NODE_OPTIONS if not option.django)  # every command that logs in
DJANGO = tuple(option.name for option in NODE_OPTIONS if option.django)  # users, backup --controller
CONTAINER_ONLY = ("container",)  # check: inspects the controller's container, runs no manage.py
# The context file's key of each option it can fill in (deisctl.contexts.KEYS). Its host is the
# controller's node only: NodeOptions.controller_host.
CONTEXT_KEYS = dict(ssh.SSH_CONTEXT_KEYS)
CONTROLLER_HOST_KEY = "controller_host"


class NodeOptions(NamedTuple):
    """Resolved, checked node options of one command."""

    host: Optional[str]  # given (flag or environment); None: the context's controller_host, else etcd
    ssh: SSHOptions
    remote_timeout: Optional[float]  # None: the command's own default
    runtime: str
    container: str
    app_dir: Optional[str]
    python: str
    controller_host: Optional[str] = None  # the context's node of the controller (used for it alone)

    @property
    def naming(self) -> Naming:
        """How messages name these options where they were given (flags, or API fields)."""
        return self.ssh.naming


def resolve(env: Mapping[str, str], settings, layers: Sequence[Mapping[str, Any]],
            naming: Naming = ssh.FLAGS) -> NodeOptions:
    """NodeOptions from the values a door was given (layers: dicts named as NAMES, None or
    absent: not given; later layers win, e.g. a group's flags then its sub-command's), env (the
    invocation's environment: DEISCTL_<NAME>, HOME for ~) and settings' context; checked here,
    so that a bad value is a usage error before any connection. naming: how the door names the
    options in messages (--flags for the CLI; its `where` says where they go)."""
    from deisctl import contexts

    context = {ours: contexts.value(settings, theirs) for ours, theirs in CONTEXT_KEYS.items()}
    origins: dict = {}
    values = ssh.resolve(NAMES, layers, env, context, origins)
    naming = replace(naming, origins=tuple(sorted(origins.items())))
    login = ssh.from_values(values, naming, env)
    remote_timeout = ssh.number(float, "remote_timeout", values["remote_timeout"], naming)
    if remote_timeout is not None and not remote_timeout > 0:
        raise UsageError(f"{naming.of('remote_timeout')} must be a positive number of seconds, got {remote_timeout:g}")
    runtime = str(values["runtime"] or controller.RUNTIMES[0]).lower()
    if runtime not in controller.RUNTIMES:
        raise UsageError(f"invalid {naming.of('runtime')} {runtime!r}", hint=", ".join(controller.RUNTIMES[:-1]) + " or " + controller.RUNTIMES[-1])
    container = controller.validate_container(values["container"] or controller.DEFAULT_CONTAINER)
    app_dir = values["app_dir"]
    if app_dir is not None and not str(app_dir).startswith("/"):
        raise UsageError(f"{naming.of('app_dir')} must be an absolute path, got {app_dir!r}")
    python = values["python"] or controller.DEFAULT_PYTHON
    if python.startswith("-") or not python.strip():
        raise UsageError(f"invalid {naming.of('python')} {python!r}")
    return NodeOptions(values["host"], login, remote_timeout, runtime, container, app_dir, python,
                       contexts.value(settings, CONTROLLER_HOST_KEY))
