"""`deisctl config COMPONENT set|get|rm`: component settings under <prefix>/<component>/."""

from __future__ import annotations

from typing import Optional

import click

from deisctl import commands
from deisctl import keys as keyspec
from deisctl.cli import completion
from deisctl.cli.groups import DeisctlCommand, LazyGroup, help_if_bare
from deisctl.cli.options import component_of, invocation, output_option, target_options
from deisctl.errors import UsageError
from deisctl.ops import config as ops
from deisctl.output import config as views
from deisctl.output import emit


class ConfigGroup(LazyGroup):
    """`config` takes one of its own commands (export, apply, diff) or a COMPONENT followed by a verb."""

    def get_command(self, ctx: click.Context, name: str):
        command = super().get_command(ctx, name)
        if command is not None or name.startswith("-"):
            return command
        if ctx.resilient_parsing and not keyspec.COMPONENT_RE.match(name):
            return None  # completing: a half-typed name is not an error
        keyspec.validate_component(name)
        return component_group

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """`config set controller k=v` (the verb first, as in other tools): say where the
        component goes, with the command line that works. `config set get` stays the verb get
        of a component named set."""
        if len(args) >= 2 and args[0] in commands.COMPONENT and args[1] not in commands.COMPONENT \
                and keyspec.COMPONENT_RE.match(args[1]) and not ctx.resilient_parsing:
            import shlex

            fixed = shlex.join(["deisctl", "config", args[1], args[0], *args[2:]])
            raise UsageError(f"'{args[0]}' is a verb of a component, and the component comes first",
                             hint=f"as in '{fixed}'")
        return super().resolve_command(ctx, args)

    def shell_complete(self, ctx: click.Context, incomplete: str):
        """Complete this group's commands and the known component names."""
        return super().shell_complete(ctx, incomplete) + completion.component_items(incomplete)


@click.group(cls=ConfigGroup, name="config", short_help="Read and write component settings in etcd.", subcommand_metavar="COMPONENT set|get|rm [ARGS]...",
             lazy_subcommands=commands.CONFIG)
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Read and write component settings stored in etcd (<prefix>/<component>/<key>)."""
    help_if_bare(ctx)


@click.group(cls=LazyGroup, name="COMPONENT", lazy_subcommands=commands.COMPONENT)
@click.pass_context
def component_group(ctx: click.Context) -> None:
    """Settings of one component (e.g. controller, platform, router)."""
    help_if_bare(ctx)


@click.command("set", cls=DeisctlCommand)
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...", shell_complete=completion.assignments)
@click.option("--strict", is_flag=True, help="Refuse components and keys the schema does not know.")
@click.option("--from-stdin", is_flag=True,
              help="Read the value of the one KEY given from standard input (a hidden prompt on a terminal), so "
                   "that a secret is never in argv.")
@target_options
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ********.")
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option("--if-revision", metavar="REV",
              help="Write only if none of the keys changed after etcd revision REV (else exit 6, nothing written).")
@output_option
@click.pass_context
def set_(ctx: click.Context, pairs: tuple[str, ...], strict: bool, from_stdin: bool, new_component: bool,
         new_key: bool, show_secrets: bool, dry_run: bool, if_revision: Optional[str], fmt: Optional[str]):
    """Write one or more keys atomically: all of them, or none. Each KEY=VALUE is split at the first '='.

    The component must be one the schema or etcd knows (else --new-component), and no key may
    differ from a known or existing one only by case or one character (else --new-key).
    """
    inv = invocation(ctx, fmt)
    result = ops.set_values(inv, component_of(ctx), pairs, strict=strict, dry_run=dry_run,
                            new_component=new_component, new_key=new_key, from_stdin=from_stdin,
                            if_revision=if_revision)
    emit(inv, views.set_result(result, show_secrets), wrote=not dry_run)
    return result


@click.command("get", cls=DeisctlCommand)
@click.argument("keys", nargs=-1, metavar="[KEY]...", shell_complete=completion.keys)
@click.option("--show-secrets", is_flag=True, help="In a listing, print secret values.")
@output_option
@click.pass_context
def get(ctx: click.Context, keys: tuple[str, ...], show_secrets: bool, fmt: Optional[str]):
    """Print the values of KEYs (raw, one per line), or list the whole component."""
    inv = invocation(ctx, fmt)
    if keys:
        result = ops.get_values(inv, component_of(ctx), keys)
        emit(inv, views.values(result))
    else:
        result = ops.list_component(inv, component_of(ctx))
        emit(inv, views.listing(result, show_secrets))
    return result


@click.command("rm", cls=DeisctlCommand)
@click.argument("keys", nargs=-1, required=True, metavar="KEY...", shell_complete=completion.keys)
@click.option("--ignore-missing", is_flag=True, help="Delete the keys that exist; skip the others.")
@click.option("--dry-run", is_flag=True, help="Check and show what would be deleted; delete nothing.")
@output_option
@click.pass_context
def rm(ctx: click.Context, keys: tuple[str, ...], ignore_missing: bool, dry_run: bool, fmt: Optional[str]):
    """Delete keys atomically; a missing key deletes nothing (exit 3) unless --ignore-missing."""
    inv = invocation(ctx, fmt)
    result = ops.remove(inv, component_of(ctx), keys, ignore_missing=ignore_missing, dry_run=dry_run)
    emit(inv, views.removed(result), wrote=not dry_run)
    return result


@click.command("schema", cls=DeisctlCommand, short_help="The known keys: what each accepts and which Deis versions read it.")
@click.argument("component", required=False, metavar="[COMPONENT]", shell_complete=completion.component_names)
@output_option
@click.pass_context
def schema(ctx: click.Context, component: Optional[str], fmt: Optional[str]):
    """The known keys: what each accepts, which Deis versions read it, and which are secret,
    file-valued or published by the component itself (apply --prune keeps those)."""
    inv = invocation(ctx, fmt)
    result = ops.describe_schema(inv, component)
    emit(inv, views.schema_table(result))
    return result
