"""`deisctl config COMPONENT set|get|rm`: component settings under <prefix>/<component>/."""

from __future__ import annotations

from typing import List, Optional

import typer

from deisctl import keys as keyspec
from deisctl import output
from deisctl.cli import completion
from deisctl.cli.lazy import LazyGroup
from deisctl.cli.options import OUTPUT, settings_with_output
from deisctl.errors import NotFoundError, UsageError
from deisctl.settings import Settings

_COMPONENT = "deisctl.component"


class ConfigGroup(LazyGroup):
    """`config` takes either one of its own commands or a COMPONENT followed by set/get/rm."""

    lazy_table = "config"  # export, apply, diff: built when used (deisctl.cli.lazy)

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            ctx.meta[_COMPONENT] = keyspec.validate_component(args[0])
            return args[0], typer.main.get_command(component_app), args[1:]
        return super().resolve_command(ctx, args)

    def shell_complete(self, ctx, incomplete):
        """Complete this group's commands and the known component names."""
        return super().shell_complete(ctx, incomplete) + completion.component_items(incomplete)


config_app = typer.Typer(
    cls=ConfigGroup,
    help="Read and write component settings stored in etcd (<prefix>/<component>/<key>).",
    subcommand_metavar="COMPONENT set|get|rm [ARGS]...",
    no_args_is_help=True,
    rich_markup_mode=None,
)
class ComponentGroup(LazyGroup):
    lazy_table = "component"  # history, rollback, watch: built when used (deisctl.cli.lazy)


component_app = typer.Typer(
    cls=ComponentGroup,
    help="Settings of one component (e.g. controller, platform, router).",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _context(ctx: typer.Context) -> tuple[Settings, str]:
    return ctx.find_root().obj, ctx.meta[_COMPONENT]


def _open_store(settings: Settings):
    from deisctl.store import Store  # imports gRPC: only for commands that talk to etcd

    return Store(settings)


@component_app.command("set")
def set_(
    ctx: typer.Context,
    pairs: List[str] = typer.Argument(..., metavar="KEY=VALUE...", help="Split at the first '='.",
                                      autocompletion=completion.assignments),
    strict: bool = typer.Option(False, "--strict", help="Refuse keys the schema does not know."),
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Print secret values instead of ********."),
    fmt: Optional[str] = OUTPUT,
) -> None:
    """Write one or more keys atomically: all of them, or none."""
    from deisctl import schema  # validators: only needed to write

    settings, component = _context(ctx)
    settings_with_output(ctx, fmt)
    checked = {}
    for arg in pairs:
        key, value = keyspec.parse_assignment(arg)
        if key in checked:
            raise UsageError(f"key {key!r} given twice")
        checked[key] = schema.check(component, key, value, strict=strict)
    for item in checked.values():
        for message in item.warnings:
            output.warn(message)

    base = settings.component_prefix(component)
    with _open_store(settings) as store:
        previous = store.put_many([(base + k, c.value) for k, c in checked.items()])
    changes = [
        output.Change(key, item.value, prev.text if prev else None)
        for (key, item), prev in zip(checked.items(), previous)
    ]
    output.emit(output.SetResult(changes, show_secrets), settings.output)


@component_app.command("get")
def get(
    ctx: typer.Context,
    keys: Optional[List[str]] = typer.Argument(None, metavar="[KEY]...", autocompletion=completion.keys,
                                               help="Keys to print; none lists every key of the component."),
    show_secrets: bool = typer.Option(False, "--show-secrets", help="In a listing, print secret values."),
    fmt: Optional[str] = OUTPUT,
) -> None:
    """Print the values of KEYs (raw, one per line), or list the whole component."""
    settings, component = _context(ctx)
    settings_with_output(ctx, fmt)
    base = settings.component_prefix(component)
    if keys:
        for key in keys:
            keyspec.validate_key(key)
        wanted = list(dict.fromkeys(keys))
        with _open_store(settings) as store:
            found = store.get_many([base + k for k in wanted])
        missing = [base + k for k in wanted if base + k not in found]
        if missing:
            raise NotFoundError(f"key not found: {', '.join(missing)}")
        result = output.ValuesResult({k: found[base + k].value for k in wanted})
        if settings.output == "text":
            result.write_raw()
        else:
            output.emit(result, settings.output)
        return

    with _open_store(settings) as store:
        rows = store.list_prefix(base)
    items = {kv.key[len(base):]: kv.text for kv in rows}
    if not items:
        from deisctl import schema

        hint = ""
        if component not in schema.COMPONENTS:
            close = _closest_component(component)
            hint = f" ({component!r} is not a known component; did you mean {close!r}?)" if close else ""
        output.note(f"no keys under {base}{hint}")
    output.emit(output.ListingResult(items, show_secrets), settings.output)


def _closest_component(component: str) -> Optional[str]:
    import difflib

    from deisctl import schema

    matches = difflib.get_close_matches(component, list(schema.COMPONENTS), n=1)
    return matches[0] if matches else None


@component_app.command("rm")
def rm(
    ctx: typer.Context,
    keys: List[str] = typer.Argument(..., metavar="KEY...", autocompletion=completion.keys),
    ignore_missing: bool = typer.Option(False, "--ignore-missing", help="Delete the keys that exist; skip the others."),
    fmt: Optional[str] = OUTPUT,
) -> None:
    """Delete keys atomically; a missing key deletes nothing (exit 3) unless --ignore-missing."""
    settings, component = _context(ctx)
    settings_with_output(ctx, fmt)
    base = settings.component_prefix(component)
    for key in keys:
        keyspec.validate_key(key)
    wanted = list(dict.fromkeys(keys))
    with _open_store(settings) as store:
        removed = store.delete_many([base + k for k in wanted], must_exist=not ignore_missing)
    gone = {kv.key for kv in removed}
    output.emit(output.RemovedResult([k for k in wanted if base + k in gone]), settings.output)
