"""`context list|use|show`: named clusters from the config file (see deisctl.contexts)."""

from __future__ import annotations

from typing import NamedTuple, Optional

from deisctl import contexts
from deisctl.errors import UsageError

# The global options `context show` reports, in this order.
_OPTIONS = ("endpoints", "prefix", "cacert", "cert", "key", "user", "dial_timeout", "command_timeout", "tunnel")


class ContextList(NamedTuple):
    contexts: list  # [(name, in use?, endpoints)]


class ContextSettings(NamedTuple):
    name: str
    settings: dict  # setting -> value (a password masked)


class Effective(NamedTuple):
    context: Optional[str]
    settings: dict  # setting -> {"value", "source"}


def _config(inv) -> contexts.ConfigFile:
    config = contexts.load(inv.env)
    if config is None:
        raise UsageError(f"no config file at {contexts.config_path(inv.env)}",
                         hint="create it (see 'deisctl context --help'), or set DEISCTL_CONFIG")
    return config


def names(env) -> list[str]:
    """The context names (for completion: never an error)."""
    try:
        config = contexts.load(env)
    except Exception:
        return []
    return list(config.contexts) if config else []


def list_contexts(inv) -> ContextList:
    config = contexts.load(inv.env)
    if config is None:  # nothing configured is an answer, not an error
        inv.note(f"no contexts: no config file at {contexts.config_path(inv.env)} (see 'deisctl context --help')")
        return ContextList([])
    active = inv.settings.context or config.current
    return ContextList([(name, name == active, values.get("endpoints")) for name, values in config.contexts.items()])


def use(inv, name: str) -> None:
    """Make NAME the current context (only the current-context line of the file changes)."""
    config = _config(inv)
    if name not in config.contexts:
        raise UsageError(f"no context {name!r} in {config.path}",
                         hint="known contexts: " + (", ".join(sorted(config.contexts)) or "none"))
    contexts.set_current(config.path, name, inv.env)
    inv.note(f"current context: {name}")


def show(inv, name: str) -> ContextSettings:
    config = _config(inv)
    if name not in config.contexts:
        raise UsageError(f"no context {name!r} in {config.path}")
    return ContextSettings(name, {k: _masked(k, v) for k, v in config.contexts[name].items()})


def effective(inv) -> Effective:
    """Every setting in effect and where it came from: flag or environment > context > default."""
    s = inv.settings
    values = {
        "endpoints": ",".join(s.endpoints), "prefix": s.prefix, "cacert": s.cacert, "cert": s.cert, "key": s.key,
        "user": s.user + (":********" if s.password else "") if s.user else None,
        "dial_timeout": s.dial_timeout, "command_timeout": s.command_timeout, "tunnel": s.tunnel,
    }
    rows = {k: {"value": values[k], "source": s.sources.get(k, "default")} for k in _OPTIONS}
    for k, v in s.context_values.items():
        if k not in rows:
            rows[k] = {"value": _masked(k, v), "source": f"context {s.context}"}
    return Effective(s.context, rows)


def _masked(key: str, value):
    if key == "user" and isinstance(value, str) and ":" in value:
        return value.split(":", 1)[0] + ":********"
    return value
