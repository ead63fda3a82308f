"""`deisctl context list|use|show`: named clusters from the config file (see deisctl.contexts)."""

from __future__ import annotations

from typing import Optional

import click

from deisctl import output
from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.options import output_option, invocation, state_of


@click.group("context", cls=DeisctlGroup)
@click.pass_context
def context_group(ctx: click.Context) -> None:
    """Named cluster contexts from the config file (DEISCTL_CONFIG, default ~/.config/deisctl/config.yaml)."""
    help_if_bare(ctx)

_OPTIONS = ("endpoints", "prefix", "cacert", "cert", "key", "user", "dial_timeout", "command_timeout", "tunnel")


def _config(ctx: click.Context):
    from deisctl import contexts
    from deisctl.errors import UsageError

    env = state_of(ctx).env
    config = contexts.load(env)
    if config is None:
        raise UsageError(f"no config file at {contexts.config_path(env)}",
                         hint="create it (see 'deisctl context --help'), or set DEISCTL_CONFIG")
    return config


def _complete_context(ctx: click.Context, _param, incomplete: str) -> list[str]:
    from deisctl import contexts

    try:
        config = contexts.load(state_of(ctx).env)
    except Exception:
        return []
    return [name for name in (config.contexts if config else ()) if name.startswith(incomplete)]


class _Rows(output.Result):
    def __init__(self, data, lines):
        self._data, self._lines = data, lines

    def data(self):
        return self._data

    def lines(self):
        return iter(self._lines)


@context_group.command("list")
@output_option
@click.pass_context
def list_(ctx: click.Context, fmt: Optional[str]) -> None:
    """List the contexts; * marks the one in use."""
    from deisctl import contexts

    settings = invocation(ctx, fmt, lenient_context=True).settings
    env = state_of(ctx).env
    config = contexts.load(env)
    if config is None:  # nothing configured is an answer, not an error
        output.note(f"no contexts: no config file at {contexts.config_path(env)} (see 'deisctl context --help')")
        output.emit(_Rows([], []), settings.output)
        return
    active = settings.context or config.current
    data = [{"name": name, "current": name == active, "endpoints": values.get("endpoints")}
            for name, values in config.contexts.items()]
    width = max([len(d["name"]) for d in data] + [4])
    lines = [f"{'*' if d['current'] else ' '} {d['name']:<{width}}  {d['endpoints'] or ''}".rstrip() for d in data]
    output.emit(_Rows(data, lines), settings.output)


@context_group.command("use")
@click.argument("name", shell_complete=_complete_context)
@click.pass_context
def use(ctx: click.Context, name: str) -> None:
    """Make NAME the current context (current-context in the file; the rest is kept as is)."""
    from deisctl import contexts
    from deisctl.errors import UsageError

    config = _config(ctx)
    if name not in config.contexts:
        raise UsageError(f"no context {name!r} in {config.path}",
                         hint="known contexts: " + (", ".join(sorted(config.contexts)) or "none"))
    contexts.set_current(config.path, name)
    output.note(f"current context: {name}")


@context_group.command("show")
@click.argument("name", required=False, shell_complete=_complete_context)
@output_option
@click.pass_context
def show(ctx: click.Context, name: Optional[str], fmt: Optional[str]) -> None:
    """Show a context's settings, or (without NAME) every setting in effect and where it came
    from: flag or environment > context > default."""
    from deisctl.errors import UsageError

    settings = invocation(ctx, fmt, lenient_context=True).settings
    if name is not None:
        config = _config(ctx)
        if name not in config.contexts:
            raise UsageError(f"no context {name!r} in {config.path}")
        values = {k: _masked(k, v) for k, v in config.contexts[name].items()}
        lines = [f"{k}={v}" for k, v in values.items()]
        output.emit(_Rows({"name": name, "settings": values}, lines), settings.output)
        return
    effective = {
        "endpoints": ",".join(settings.endpoints), "prefix": settings.prefix, "cacert": settings.cacert,
        "cert": settings.cert, "key": settings.key,
        "user": settings.user + (":********" if settings.password else "") if settings.user else None,
        "dial_timeout": settings.dial_timeout, "command_timeout": settings.command_timeout,
        "tunnel": settings.tunnel,
    }
    rows = {k: {"value": v, "source": settings.sources.get(k, "default")} for k, v in effective.items()}
    for k, v in settings.context_values.items():
        if k not in rows:
            rows[k] = {"value": _masked(k, v), "source": f"context {settings.context}"}
    lines = [f"context={settings.context or '(none)'}"]
    lines += [f"{k}={'' if r['value'] is None else r['value']}  ({r['source']})" for k, r in rows.items()]
    output.emit(_Rows({"context": settings.context, "settings": rows}, lines), settings.output)


def _masked(key: str, value):
    if key == "user" and isinstance(value, str) and ":" in value:
        return value.split(":", 1)[0] + ":********"
    return value
