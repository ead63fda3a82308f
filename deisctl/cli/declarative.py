"""`deisctl config export|apply|diff`: settings as a document kept in git and applied from playbooks."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli import completion
from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import invocation, output_option, target_options
from deisctl.errors import PartlyApplied
from deisctl.keys import MASK
from deisctl.ops import documents as ops
from deisctl.output import documents as views
from deisctl.output import emit

_FILE_HELP = "The settings document (YAML or JSON), or - for standard input."
_ANY_FILE_HELP = "Let {file: PATH} entries read files outside the document's folder."
_PUBLISHED_HELP = ("Also write this key although the component publishes it about its own cluster (*/host, */port, "
                   "controller/secretKey, ...): without it, apply keeps the cluster's own value. Repeatable.")
_PROTECTED_HELP = ("With --prune: also delete this key although components publish it or it holds a secret "
                   "(*/host, */port, controller/secretKey, ...). Repeatable.")


@click.command("export", cls=DeisctlCommand)
@click.argument("components", nargs=-1, metavar="[COMPONENT]...", shell_complete=completion.component_names)
@click.option("-f", "--file", metavar="FILE", help="Write the document to FILE instead of standard output.")
@click.option("--show-secrets", is_flag=True, help="Export secret values instead of ********.")
@click.option("--include-published", is_flag=True,
              help="Also export the keys components publish about this cluster (*/host, */port, controller/secretKey, "
                   "...), which apply then keeps unless named with --write-published.")
@output_option
@click.pass_context
def export(ctx: click.Context, components: tuple[str, ...], file: Optional[str], show_secrets: bool,
           include_published: bool, fmt: Optional[str]):
    """Print the settings as a YAML (default) or JSON document: {component: {key: value}}.

    Nested keys stay slash paths; file-valued keys are exported as their stored content,
    which 'config apply' accepts back as is. JSON with -o json or a FILE ending in .json.
    """
    inv = invocation(ctx, fmt)
    result = ops.export(inv, components, show_secrets=show_secrets, include_published=include_published)
    path = None if file in (None, "-") else file
    # JSON with -o json, or a FILE ending in .json when no format is asked for.
    as_json = inv.output == "json" or (inv.output == "text" and (path or "").endswith(".json"))
    emit(inv, views.exported(result), fmt="json" if as_json else None, path=path)
    if path is not None:
        inv.note(views.export_note(result, path))
    return result


def document_options(prune_help: str):
    """The options apply and diff share (declared once, so their help cannot drift apart)."""
    def decorate(fn):
        for option in reversed((
            click.option("-f", "--file", required=True, metavar="FILE", help=_FILE_HELP),
            click.option("--prune", is_flag=True, help=prune_help),
            click.option("--strict", is_flag=True, help="Refuse components and keys the schema does not know."),
            click.option("--keep-masked", is_flag=True,
                         help=f"Leave keys whose value is {MASK} (a masked export) as they are."),
            click.option("--allow-any-file", is_flag=True, help=_ANY_FILE_HELP),
            click.option("--delete-protected", multiple=True, metavar="COMPONENT/KEY", help=_PROTECTED_HELP),
            click.option("--write-published", multiple=True, metavar="COMPONENT/KEY", help=_PUBLISHED_HELP),
            click.option("--show-secrets", is_flag=True, help="Show secret values in the changes."),
            output_option,
        )):
            fn = option(fn)
        return fn

    return decorate


def document_options_of(values: dict) -> ops.DocumentOptions:
    """The DocumentOptions of the flags given (--allow-any-file is any_file)."""
    values = dict(values)
    values["any_file"] = values.pop("allow_any_file")
    return ops.DocumentOptions(**values)


@click.command("apply", cls=DeisctlCommand)
@document_options("Also delete keys of the listed components that the file does not name (asks first on a "
                  "terminal; refused without one unless --yes).")
@click.option("--dry-run", is_flag=True, help="Show the changes; write nothing.")
@click.option("--yes", "-y", is_flag=True,
              help="With --prune: delete without asking. Needed for any deletion when there is no terminal.")
@target_options
@click.pass_context
def apply(ctx: click.Context, file: str, dry_run: bool, yes: bool, show_secrets: bool, fmt: Optional[str],
          **options):
    """Make etcd match FILE, writing only the keys that differ.

    The whole file is validated first (exit 2, nothing written), and so are its components and
    keys (a new component needs --new-component, a likely typo of a key --new-key). Keys the
    components publish about this cluster are kept unless named with --write-published. Every
    written or deleted key is guarded by the revision it had when read: a concurrent change →
    exit 6. Up to 128 changes are one transaction (all or nothing); more are split into
    transactions, each all or nothing, applied in key order; one that stops after its first
    transaction lists what it wrote and exits 8 (see the README). JSON output:
    {"changed": bool, "changes": [{key, action, old, new}], "kept": [...]}.
    """
    inv = invocation(ctx, fmt)
    try:
        result = ops.apply(inv, file, document_options_of(options), dry_run=dry_run, yes=yes,
                           confirm_prune=prune_confirmation(inv), progress=apply_progress(inv))
    except PartlyApplied as stopped:  # what landed, on stdout (JSON too), before the error line
        emit(inv, views.applied(stopped.result, show_secrets), wrote=True)
        raise
    emit(inv, views.applied(result, show_secrets), wrote=not dry_run)
    return result


@click.command("diff", cls=DeisctlCommand)
@document_options("Also show keys that 'apply --prune' would delete.")
@click.pass_context
def diff(ctx: click.Context, file: str, show_secrets: bool, fmt: Optional[str], **options):
    """Show what 'config apply' would change, as a unified diff (etcd → FILE).

    Exit status (kubectl's convention): 0 no differences, 1 differences, >1 trouble: 2-6 as
    for every command, and 7 when the comparison failed (what other commands report as 1).
    """
    inv = invocation(ctx, fmt)
    result = ops.diff(inv, file, document_options_of(options))
    emit(inv, views.compared(result, inv.settings.prefix, show_secrets))
    return result


# What the CLI asks and shows while apply works (the operation takes them as callables; output/
# only renders results).

PROGRESS_MIN_CHANGES = 500  # a progress line on stderr (a terminal) from this many changes on

def prune_confirmation(inv):
    """When someone can be asked (inv.confirm): show what --prune would delete (on stderr) and
    ask; None otherwise."""
    if inv.confirm is None:
        return None

    def confirm(removals: list, emptied: list) -> bool:
        for change in removals:
            inv.note(views.change_line(change, show_secrets=False))
        if emptied:
            inv.note(f"{', '.join(emptied)} would be left without any key")
        return inv.confirm(f"Delete these {len(removals)} key(s)?")

    return confirm


def apply_progress(inv):
    """`applying: 12/79 transactions (1536/10000 changes)` on stderr, rewritten in place, for large
    change sets on a terminal; None otherwise."""
    if not inv.terminal_err:
        return None

    def progress(done: int, batches: int, written: int, total: int) -> None:
        if total < PROGRESS_MIN_CHANGES:
            return
        end = "\n" if done == batches else ""
        inv.stderr.write(f"\rapplying: {done}/{batches} transactions ({written}/{total} changes){end}")
        inv.stderr.flush()

    return progress
