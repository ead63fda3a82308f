"""`deisctl config export|apply|diff`: settings as a document kept in git and applied from playbooks.

Only Click and the standard library at import time: the document code (YAML) and the
etcd client are imported inside the commands, so `config get` starts as fast as before.
"""

from __future__ import annotations

import sys
from typing import Optional

import click

from deisctl import output
from deisctl.cli import completion
from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import output_option, invocation, state_of
from deisctl.errors import ExitCode

PROGRESS_MIN_CHANGES = 500  # a progress bar on stderr (a terminal) from this many changes on
_MAX_WARNINGS = 5


def _warn_all(warnings: list[str]) -> None:
    for message in warnings[:_MAX_WARNINGS]:
        output.warn(message)
    if len(warnings) > _MAX_WARNINGS:
        output.warn(f"... and {len(warnings) - _MAX_WARNINGS} more warnings of this kind")


# -- export -------------------------------------------------------------------------------

@click.command("export", cls=DeisctlCommand)
@click.argument("components", nargs=-1, metavar="[COMPONENT]...", shell_complete=completion.component_names)
@click.option("-f", "--file", metavar="FILE", help="Write the document to FILE instead of standard output.")
@click.option("--show-secrets", is_flag=True, help="Export secret values instead of ********.")
@output_option
@click.pass_context
def export(ctx: click.Context, components: tuple[str, ...], file: Optional[str], show_secrets: bool,
           fmt: Optional[str]) -> None:
    """Print the settings as a YAML (default) or JSON document: {component: {key: value}}.

    Nested keys stay slash paths; file-valued keys are exported as their stored content,
    which 'config apply' accepts back as is. JSON with -o json or a FILE ending in .json.
    """
    from deisctl import keys as keyspec
    from deisctl import plan

    settings = invocation(ctx, fmt).settings
    wanted = None
    if components:
        wanted = list(dict.fromkeys(keyspec.validate_component(c) for c in components))
    with open_store(settings) as store:
        prefixes = [settings.component_prefix(c) for c in wanted] if wanted else [settings.prefix + "/"]
        snap = store.snapshot(prefixes)
    rows = [snap.rows[k] for k in sorted(snap.rows)]
    doc, warnings, masked = plan.export_document(rows, settings.prefix, wanted, show_secrets)
    _warn_all(warnings)
    as_json = settings.output == "json" or (settings.output == "text" and (file or "").endswith(".json"))
    if as_json:
        import json

        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        text = plan.dump_yaml(doc, masked)
    if not file or file == "-":
        sys.stdout.write(text)
        return
    _write_private(file, text, secret=show_secrets)
    output.note(f"exported {sum(len(v) for v in doc.values())} keys of {len(doc)} components to {file}"
                + (" (secrets masked)" if masked else ""))


def _write_private(path: str, text: str, *, secret: bool) -> None:
    """Write atomically; 0600 when the file holds secrets."""
    import os

    from deisctl.errors import UsageError

    target = os.path.expanduser(path)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


# -- apply and diff ---------------------------------------------------------------------------

class ApplyResult(output.Result):
    def __init__(self, changes, show_secrets: bool, dry_run: bool):
        self.changes, self.show_secrets, self.dry_run = changes, show_secrets, dry_run

    def data(self):
        result = {"changed": bool(self.changes), "changes": [c.data(self.show_secrets) for c in self.changes]}
        if self.dry_run:
            result["dry_run"] = True
        return result

    def lines(self):
        from deisctl import plan

        for change in self.changes:
            yield plan.change_line(change, self.show_secrets)
        suffix = " (dry run: nothing written)" if self.dry_run and self.changes else ""
        yield plan.summary(self.changes) + suffix


def _emit(result: output.Result, fmt: str) -> None:
    """output.emit, with text written in one piece (10,000 changes: one write, not 10,000)."""
    if fmt != "text":
        output.emit(result, fmt)
        return
    sys.stdout.write("\n".join(result.lines()) + "\n")


def _compare(settings, file: str, *, prune: bool, strict: bool, keep_masked: bool):
    """Validate the whole document first, then read every listed component at one revision."""
    from deisctl import plan

    doc = plan.load(file, strict=strict, keep_masked=keep_masked)
    _warn_all(doc.warnings)
    store = open_store(settings)
    try:
        snap = store.snapshot([settings.component_prefix(c) for c in doc.components])
    except BaseException:
        store.close()
        raise
    return doc, store, snap, plan.plan(doc, snap, settings.prefix, prune=prune)


class _Progress:
    """`applying: 12/79 transactions (1536/10000 changes)` on stderr, rewritten in place."""

    def __init__(self, total_changes: int):
        self.total = total_changes

    def __call__(self, done: int, batches: int) -> None:
        from deisctl.store import MAX_TXN_OPS

        written = min(done * MAX_TXN_OPS, self.total)
        end = "\n" if done == batches else ""
        sys.stderr.write(f"\rapplying: {done}/{batches} transactions ({written}/{self.total} changes){end}")
        sys.stderr.flush()


_FILE_HELP = "The settings document (YAML or JSON), or - for standard input."


@click.command("apply", cls=DeisctlCommand)
@click.option("-f", "--file", required=True, metavar="FILE", help=_FILE_HELP)
@click.option("--dry-run", is_flag=True, help="Show the changes; write nothing.")
@click.option("--prune", is_flag=True, help="Also delete keys of the listed components that the file does not name.")
@click.option("--strict", is_flag=True, help="Refuse keys the schema does not know.")
@click.option("--keep-masked", is_flag=True, help="Leave keys whose value is ******** (a masked export) as they are.")
@click.option("--show-secrets", is_flag=True, help="Print secret values in the changes.")
@output_option
@click.pass_context
def apply(ctx: click.Context, file: str, dry_run: bool, prune: bool, strict: bool, keep_masked: bool,
          show_secrets: bool, fmt: Optional[str]) -> None:
    """Make etcd match FILE, writing only the keys that differ.

    The whole file is validated first (exit 2, nothing written). Every written or deleted key
    is guarded by the revision it had when read: a concurrent change → exit 6. Up to 128
    changes are one transaction (all or nothing); more are split into transactions of 128,
    each all or nothing, applied in key order (see the README). JSON output:
    {"changed": bool, "changes": [{key, action, old, new}]}.
    """
    settings = invocation(ctx, fmt).settings
    doc, store, snap, changes = _compare(settings, file, prune=prune, strict=strict, keep_masked=keep_masked)
    with store:
        if changes and not dry_run:
            progress = None
            if len(changes) >= PROGRESS_MIN_CHANGES and sys.stderr.isatty():
                progress = _Progress(len(changes))
            store.guarded_write([(c.full_key, c.new) for c in changes],
                                {c.full_key: c.mod_revision for c in changes}, progress=progress)
    _emit(ApplyResult(changes, show_secrets, dry_run), settings.output)


@click.command("diff", cls=DeisctlCommand)
@click.option("-f", "--file", required=True, metavar="FILE", help=_FILE_HELP)
@click.option("--prune", is_flag=True, help="Also show keys that 'apply --prune' would delete.")
@click.option("--strict", is_flag=True, help="Refuse keys the schema does not know.")
@click.option("--keep-masked", is_flag=True, help="Ignore keys whose value is ********.")
@click.option("--show-secrets", is_flag=True, help="Show secret values.")
@output_option
@click.pass_context
def diff(ctx: click.Context, file: str, prune: bool, strict: bool, keep_masked: bool, show_secrets: bool,
         fmt: Optional[str]) -> None:
    """Show what 'config apply' would change, as a unified diff (etcd → FILE).

    Exit status (kubectl's convention): 0 no differences, 1 differences, >1 trouble: 2-6 as
    for every command, and 7 when the comparison failed (what other commands report as 1).
    """
    from deisctl import plan

    state_of(ctx).failure_code = int(ExitCode.COMPARISON_FAILED)  # before anything can fail
    settings = invocation(ctx, fmt).settings
    doc, store, snap, changes = _compare(settings, file, prune=prune, strict=strict, keep_masked=keep_masked)
    store.close()
    if settings.output == "text":
        lines = list(plan.diff_lines(changes, left=f"etcd {settings.prefix} (revision {snap.revision})",
                                     right=doc.source, show_secrets=show_secrets))
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
    else:
        _emit(ApplyResult(changes, show_secrets, False), settings.output)
    return _Outcome(int(ExitCode.FAILED if changes else ExitCode.OK))  # 1 = different


def open_store(settings):  # transitional: this module moves to deisctl.ops
    from deisctl.store import Store

    return Store(settings)


class _Outcome:  # transitional: this module moves to deisctl.ops
    def __init__(self, exit_code, error=None):
        self.exit_code, self.error = exit_code, error
