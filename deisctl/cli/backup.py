"""`deisctl backup -f FILE`, `deisctl backup verify FILE`, `deisctl restore FILE`: the platform's
data in one verified archive (deisctl.ops.backup), restorable into another cluster."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import CommandGroup
from deisctl.cli.node_options import DJANGO_ALL, node_options, resolved
from deisctl.cli.options import invocation, output_option
from deisctl.errors import EXIT_CODE_HELP, PartlyApplied, UsageError
from deisctl.output import emit

PASSPHRASE_ENV = "DEISCTL_BACKUP_PASSPHRASE"


def passphrase_option(fn):
    return click.option("--passphrase-stdin", is_flag=True,
                        help=f"Read the passphrase from standard input's first line (else {PASSPHRASE_ENV}, else "
                             "asked on a terminal; never an argument).")(fn)


def _passphrase(inv, from_stdin: bool, twice: bool, consequence: str) -> str:
    from deisctl.ops.secrets import read_secret

    return read_secret(inv, "passphrase", whose=" of the backup", from_stdin=from_stdin, stdin_flag="--passphrase-stdin",
                       twice=twice, consequence=consequence, env_var=PASSPHRASE_ENV)


def _progress(inv):
    """`backup: N keys` on stderr, rewritten in place, on a terminal; None otherwise."""
    if not inv.terminal_err:
        return None

    def progress(done: int) -> None:
        inv.stderr.write(f"\rbackup: {done} keys")
        inv.stderr.flush()

    return progress


@click.group("backup", cls=CommandGroup,
             short_help="Back up the keyspace, the audit trail and the controller's data into one archive.",
             epilog=EXIT_CODE_HELP)
@click.option("-f", "--file", "path", metavar="FILE", help="The archive to write (mode 0600, written atomically).")
@click.option("--controller", is_flag=True, help="Also the controller's users, tokens and apps, dumped by the controller.")
@click.option("--encrypt", is_flag=True, help="Encrypt the secrets (and the controller's data) with a passphrase.")
@passphrase_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def backup(ctx: click.Context, path: Optional[str], controller: bool, encrypt: bool, passphrase_stdin: bool,
           fmt: Optional[str], **node_values):
    """Everything under the prefix at one revision, the audit trail, and with --controller the
    controller's database, into one ZIP archive with a manifest (cluster, revision, time, counts,
    sha256 of each section). `deisctl backup verify FILE` checks one."""
    if ctx.invoked_subcommand is not None:
        return None
    from deisctl.ops import backup as ops
    from deisctl.output import backup as views

    if not path:
        raise UsageError("name the archive to write with -f FILE", hint="deisctl backup -f deis-backup.zip")
    inv = invocation(ctx, fmt)
    passphrase = _passphrase(inv, passphrase_stdin, True, "nothing was written") if encrypt else None
    if controller and not encrypt:
        inv.warn("the controller's data holds password hashes and API tokens: without --encrypt they are in clear "
                 "in the archive")
    progress = _progress(inv)
    try:
        result = ops.backup(inv, path, node=resolved(ctx, inv, node_values), controller=controller, passphrase=passphrase,
                            progress=progress)
    finally:
        if progress:
            inv.stderr.write("\n")
    emit(inv, views.made(result), wrote=True)
    return result


@backup.command("verify", short_help="Check an archive: structure, checksums, counts, decryption.")
@click.argument("path", metavar="FILE")
@passphrase_option
@output_option
@click.pass_context
def verify(ctx: click.Context, path: str, passphrase_stdin: bool, fmt: Optional[str]):
    """Exit 0 when FILE is a whole deisctl backup (every section's sha256 and count as its manifest
    says, every encrypted value decrypts with the passphrase when one is given), else 1 naming the
    first damaged part."""
    from deisctl.ops import backup as ops
    from deisctl.output import backup as views

    inv = invocation(ctx, fmt)
    passphrase = None
    if passphrase_stdin or inv.env.get(PASSPHRASE_ENV) or inv.prompt is not None:
        passphrase = _maybe_passphrase(inv, path, passphrase_stdin)
    result = ops.verify(inv, path, passphrase)
    emit(inv, views.verified(result))
    return result


def _maybe_passphrase(inv, path: str, from_stdin: bool) -> Optional[str]:
    """The passphrase, when the archive is encrypted (asked only then)."""
    from deisctl import backup as archive
    from deisctl.ops.backup import archive_path

    try:
        reader = archive.Reader(archive_path(inv, path, writing=False))
    except archive.BackupDamaged:
        return None  # verify says what is wrong with it
    try:
        encrypted = bool(reader.encryption)
    finally:
        reader.close()
    return _passphrase(inv, from_stdin, False, "nothing was read") if encrypted else None


@click.command("restore", short_help="Restore a backup: what it would change is shown first.", epilog=EXIT_CODE_HELP)
@click.argument("path", metavar="FILE")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--only", multiple=True, metavar="SECTION", help="Only this section: keys, audit or controller (repeatable).")
@click.option("--include-published", is_flag=True,
              help="Also the keys components publish about their own nodes (heartbeats): they would point this "
                   "cluster at the old nodes.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@passphrase_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def restore(ctx: click.Context, path: str, dry_run: bool, only: tuple[str, ...], include_published: bool, yes: bool,
            passphrase_stdin: bool, fmt: Optional[str], **node_values):
    """Write back what FILE holds: the keys that differ from the cluster's (shown first, as
    `config diff` shows them, secrets masked; written guarded by the revision shown: someone else
    wrote meanwhile, exit 6, nothing written), the old cluster's audit trail beside this one's
    (under /deisctl-audit-imported/), and the controller's data in one transaction on the
    controller. Asks on a terminal; without one, refused unless --yes or --dry-run. A restore that
    stops part way says what landed (exit 8)."""
    from deisctl.ops import backup as ops
    from deisctl.output import backup as views

    inv = invocation(ctx, fmt)
    passphrase = _maybe_passphrase(inv, path, passphrase_stdin)
    options = dict(node=resolved(ctx, inv, node_values), only=only, include_published=include_published,
                   passphrase=passphrase)
    plan = ops.restore(inv, path, dry_run=True, **options)
    if dry_run:
        emit(inv, views.restored(plan))
        return plan
    if not yes:
        if inv.confirm is None:
            raise UsageError(f"restoring {path} changes this cluster: confirm with --yes (no terminal to ask on)",
                             hint="see what it would change with --dry-run first")
        for line in views.restored(plan).lines():
            inv.note(line)
        if not inv.confirm("Restore this?"):
            raise UsageError("not confirmed; nothing was restored")
    try:
        result = ops.restore(inv, path, not_after=plan.read_at, **options)
    except PartlyApplied as stopped:
        emit(inv, views.restored(stopped.result), wrote=True)
        raise
    emit(inv, views.restored(result), wrote=True)
    return result
