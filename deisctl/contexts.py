"""Named cluster contexts: the config file, and how its values fill in the global options.

The file (``~/.config/deisctl/config.yaml``, or ``$XDG_CONFIG_HOME/deisctl/config.yaml``,
or whatever ``DEISCTL_CONFIG`` names) looks like::

    current-context: staging
    contexts:
      staging:
        endpoints: http://10.0.1.10:2379,http://10.0.1.11:2379   # or a YAML list
        prefix: /deis
      prod:
        endpoints: [https://10.0.0.10:2379, https://10.0.0.11:2379]
        cacert: ~/.deis/prod/ca.pem        # ~ is expanded; relative paths are relative to this file
        cert: ~/.deis/prod/client.pem
        key: ~/.deis/prod/client-key.pem
        user: root                         # password: DEISCTL_PASSWORD or a prompt
        tunnel: bastion.example.com:22
        ssh_user: core
        ssh_key: ~/.ssh/deis-prod
        controller_host: 10.0.0.12

Precedence of every option: flag > DEISCTL_<NAME> environment variable > the context's
value > the built-in default. The context used is ``--context``/``DEISCTL_CONTEXT``, else
the file's ``current-context``, else none. Nothing here imports YAML unless the file exists.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping, Optional

from deisctl.errors import UsageError

CONFIG_ENV = "DEISCTL_CONFIG"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*\Z")

# key -> (kind, meaning). Kinds: str, path (expanded), seconds, port, urls (string or list).
KEYS: dict[str, tuple[str, str]] = {
    "endpoints": ("urls", "etcd client URLs (--endpoints)"),
    "prefix": ("str", "root of the Deis keys (--prefix)"),
    "cacert": ("path", "CA bundle of the etcd servers (--cacert)"),
    "cert": ("path", "client certificate (--cert)"),
    "key": ("path", "client certificate key (--key)"),
    "user": ("str", "etcd user NAME[:PASSWORD] (--user)"),
    "dial_timeout": ("seconds", "--dial-timeout"),
    "command_timeout": ("seconds", "--command-timeout"),
    "tunnel": ("str", "SSH bastion HOST[:PORT] (--tunnel)"),
    "ssh_user": ("str", "user for SSH to the nodes"),
    "ssh_key": ("path", "private key for SSH to the nodes"),
    "ssh_port": ("port", "SSH port of the nodes"),
    "known_hosts": ("path", "known_hosts file for the nodes' host keys"),
    "controller_host": ("str", "node that runs the controller (deisctl check --controller)"),
    "nodes": ("hosts", "the platform's nodes (deisctl status, logs: for components that publish no heartbeat)"),
}


def config_path(env: Mapping[str, str]) -> str:
    from deisctl.localfiles import expand_user

    if env.get(CONFIG_ENV):
        return expand_user(env[CONFIG_ENV], env)
    base = env.get("XDG_CONFIG_HOME") or os.path.join(expand_user("~", env), ".config")
    return os.path.join(base, "deisctl", "config.yaml")


class ConfigFile:
    """The parsed config file: its path, current context and contexts (values normalised)."""

    def __init__(self, path: str, current: Optional[str], contexts: dict[str, dict[str, Any]]):
        self.path, self.current, self.contexts = path, current, contexts


def load(env: Mapping[str, str]) -> Optional[ConfigFile]:
    """The config file, or None when it does not exist."""
    path = config_path(env)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    return parse(text, path, env)


def parse(text: str, path: str, env: Mapping[str, str]) -> ConfigFile:
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise UsageError(f"config file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"config file {path}: expected a mapping with 'contexts' and 'current-context'")
    unknown = sorted(set(map(str, data)) - {"contexts", "current-context"})
    if unknown:
        raise UsageError(f"config file {path}: unknown top-level key {unknown[0]!r}",
                         hint="expected 'contexts' and 'current-context'")
    raw_contexts = data.get("contexts") or {}
    if not isinstance(raw_contexts, dict):
        raise UsageError(f"config file {path}: 'contexts' must be a mapping of name to settings")
    base = os.path.dirname(os.path.abspath(path))
    contexts = {}
    for name, values in raw_contexts.items():
        name = str(name)
        if not NAME_RE.match(name):
            raise UsageError(f"config file {path}: invalid context name {name!r}")
        contexts[name] = _normalise(name, values or {}, path, base, env)
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise UsageError(f"config file {path}: 'current-context' must be a context name")
    return ConfigFile(path, current or None, contexts)


def _normalise(name: str, values: Any, path: str, base: str, env: Mapping[str, str]) -> dict[str, Any]:
    where = f"context {name!r} in {path}"
    if not isinstance(values, dict):
        raise UsageError(f"{where}: expected a mapping of settings")
    result: dict[str, Any] = {}
    for key, value in values.items():
        key = str(key).replace("-", "_")
        if key not in KEYS:
            raise UsageError(f"{where}: unknown setting {key!r}", hint="known: " + ", ".join(KEYS))
        kind = KEYS[key][0]
        if value is None:
            continue
        if kind == "urls":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = ",".join(value)
            elif not isinstance(value, str):
                raise UsageError(f"{where}: endpoints must be a comma-separated string or a list of URLs")
        elif kind == "hosts":
            hosts = value.split(",") if isinstance(value, str) else value
            if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
                raise UsageError(f"{where}: nodes must be a list of host names or addresses")
            value = tuple(h.strip() for h in hosts)
        elif kind in ("seconds", "port"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                try:
                    value = float(str(value))
                except ValueError:
                    raise UsageError(f"{where}: {key} must be a number, got {value!r}") from None
            if kind == "port":
                if value != int(value) or not 0 < value < 65536:
                    raise UsageError(f"{where}: {key} must be a TCP port number")
                value = int(value)
            else:
                value = float(value)
        else:
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise UsageError(f"{where}: {key} must be a string")
            value = str(value)
            if kind == "path":
                from deisctl.localfiles import expand_user

                value = os.path.join(base, expand_user(value, env))
        result[key] = value
    return result


def resolve(name: Optional[str], env: Mapping[str, str], *, lenient: bool = False
            ) -> tuple[Optional[str], dict[str, Any]]:
    """The context to use (--context/DEISCTL_CONTEXT, else the file's current-context) and its
    values. lenient (for `deisctl context ...`): a missing or broken context is not an error."""
    try:
        config = load(env)
    except UsageError:
        if lenient:
            return name, {}
        raise
    if config is None:
        if name and not lenient:
            raise UsageError(f"no context {name!r}: there is no config file at {config_path(env)}",
                             hint=f"create it, or set {CONFIG_ENV}")
        return name, {}
    chosen = name or config.current
    if chosen is None:
        return None, {}
    if chosen not in config.contexts:
        if lenient:
            return chosen, {}
        known = ", ".join(sorted(config.contexts)) or "none"
        origin = "" if name else " (current-context)"
        raise UsageError(f"no context {chosen!r}{origin} in {config.path}", hint=f"known contexts: {known}")
    return chosen, dict(config.contexts[chosen])


def value(settings, key: str, default: Any = None) -> Any:
    """A context setting that is not a global option (ssh_user, ssh_key, controller_host, ...),
    for the commands that need it: their own flag/env value should be checked first."""
    if key not in KEYS:
        raise KeyError(key)
    return (getattr(settings, "context_values", None) or {}).get(key, default)


def set_current(path: str, name: str, env: Mapping[str, str]) -> None:
    """Make `name` the current context, keeping the rest of the file as it is: a YAML file keeps
    its comments and layout (only the `current-context:` line changes, however its key is
    quoted, and the result is checked by parsing it back); a JSON file stays JSON. Written
    atomically, with the file's own mode, at a symlink's target."""
    import json

    from deisctl.localfiles import Unwritable, write_atomic

    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    before = parse(text, path, env)
    if text.lstrip().startswith("{"):  # JSON (which is YAML too): written back as JSON
        data = json.loads(text)
        data["current-context"] = name
        updated = json.dumps(data, indent=2) + "\n"
    else:
        pattern = re.compile(r"""^(["']?)current-context\1[ \t]*:.*$""", re.MULTILINE)
        match = pattern.search(text)
        if match:
            quote = match.group(1)
            updated = text[:match.start()] + f"{quote}current-context{quote}: {name}" + text[match.end():]
        else:
            updated = f"current-context: {name}\n" + text
        after = parse(updated, path, env)
        if after.current != name or after.contexts != before.contexts:  # a layout the line edit cannot handle
            import yaml

            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            data["current-context"] = name
            from deisctl.yaml_text import dump_yaml

            updated = dump_yaml(data)
    try:
        write_atomic(path, updated, private=True, keep_mode=True)
    except Unwritable as exc:
        raise UsageError(f"cannot write {path}: {exc}") from None
