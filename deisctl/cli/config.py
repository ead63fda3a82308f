"""`deisctl config COMPONENT set|get|rm`: component settings under <prefix>/<component>/."""

from __future__ import annotations

from typing import Optional

import click

from deisctl import keys as keyspec
from deisctl import output
from deisctl.cli import completion
from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.options import component_of, open_store, output_option, settings_for
from deisctl.errors import NotFoundError, UsageError


class ConfigGroup(DeisctlGroup):
    """`config` takes one of its own commands (export, apply, diff) or a COMPONENT followed by a verb."""

    def get_command(self, ctx: click.Context, name: str):
        command = super().get_command(ctx, name)
        if command is not None or name.startswith("-"):
            return command
        if ctx.resilient_parsing and not keyspec.COMPONENT_RE.match(name):
            return None  # completing: a half-typed name is not an error
        keyspec.validate_component(name)
        return component_group

    def shell_complete(self, ctx: click.Context, incomplete: str):
        """Complete this group's commands and the known component names."""
        return super().shell_complete(ctx, incomplete) + completion.component_items(incomplete)


@click.group(cls=ConfigGroup, name="config", subcommand_metavar="COMPONENT set|get|rm [ARGS]...")
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Read and write component settings stored in etcd (<prefix>/<component>/<key>)."""
    help_if_bare(ctx)


@click.group(cls=DeisctlGroup, name="COMPONENT")
@click.pass_context
def component_group(ctx: click.Context) -> None:
    """Settings of one component (e.g. controller, platform, router)."""
    help_if_bare(ctx)


@component_group.command("set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...", shell_complete=completion.assignments)
@click.option("--strict", is_flag=True, help="Refuse keys the schema does not know.")
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ********.")
@output_option
@click.pass_context
def set_(ctx: click.Context, pairs: tuple[str, ...], strict: bool, show_secrets: bool, fmt: Optional[str]) -> None:
    """Write one or more keys atomically: all of them, or none. Each KEY=VALUE is split at the first '='."""
    from deisctl import schema  # validators: only needed to write

    settings, component = settings_for(ctx, fmt), component_of(ctx)
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
    with open_store(settings) as store:
        previous = store.put_many([(base + k, c.value) for k, c in checked.items()])
    changes = [
        output.Change(key, item.value, prev.text if prev else None)
        for (key, item), prev in zip(checked.items(), previous)
    ]
    output.emit(output.SetResult(changes, show_secrets), settings.output)


@component_group.command("get")
@click.argument("keys", nargs=-1, metavar="[KEY]...", shell_complete=completion.keys)
@click.option("--show-secrets", is_flag=True, help="In a listing, print secret values.")
@output_option
@click.pass_context
def get(ctx: click.Context, keys: tuple[str, ...], show_secrets: bool, fmt: Optional[str]) -> None:
    """Print the values of KEYs (raw, one per line), or list the whole component."""
    settings, component = settings_for(ctx, fmt), component_of(ctx)
    base = settings.component_prefix(component)
    if keys:
        for key in keys:
            keyspec.validate_key(key)
        wanted = list(dict.fromkeys(keys))
        with open_store(settings) as store:
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

    with open_store(settings) as store:
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


@component_group.command("rm")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...", shell_complete=completion.keys)
@click.option("--ignore-missing", is_flag=True, help="Delete the keys that exist; skip the others.")
@output_option
@click.pass_context
def rm(ctx: click.Context, keys: tuple[str, ...], ignore_missing: bool, fmt: Optional[str]) -> None:
    """Delete keys atomically; a missing key deletes nothing (exit 3) unless --ignore-missing."""
    settings, component = settings_for(ctx, fmt), component_of(ctx)
    base = settings.component_prefix(component)
    for key in keys:
        keyspec.validate_key(key)
    wanted = list(dict.fromkeys(keys))
    with open_store(settings) as store:
        removed = store.delete_many([base + k for k in wanted], must_exist=not ignore_missing)
    gone = {kv.key for kv in removed}
    output.emit(output.RemovedResult([k for k in wanted if base + k in gone]), settings.output)


def _register() -> None:
    from deisctl.cli import declarative, revisions

    for command in (declarative.export, declarative.apply, declarative.diff):
        config_group.add_command(command)
    for command in (revisions.history, revisions.rollback, revisions.watch):
        component_group.add_command(command)


_register()
