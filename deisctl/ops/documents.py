"""`config export|apply|diff`: settings as a document kept in git and applied from playbooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, Union

from deisctl import commands
from deisctl.errors import (LIST_LIMIT, ComparisonFailedError, DeisctlError, ExitCode, PartlyApplied, UsageError,
                            declares_outcome, first_few)
from deisctl.ops.access import open_store

COMPONENT_VERBS = tuple(commands.COMPONENT)  # `config COMPONENT <verb>`


class Exported(NamedTuple):
    document: dict  # {component: {key: value}}, secrets masked unless asked for
    masked: bool  # some value is masked
    secret: bool  # the document holds secrets in clear (a file written from it gets mode 0600)

    @property
    def count(self) -> int:
        return sum(len(keys) for keys in self.document.values())


class Applied(NamedTuple):
    changes: list  # [Change], sorted by component and key
    dry_run: bool
    held: list = []  # [Change] to published keys the document asked for and apply did not make
    not_written: list = []  # [Change] an apply that stopped part way (PartlyApplied) did not write
    revision: int = 0  # etcd's revision after the apply's last transaction (0: nothing written)


@declares_outcome
class Compared(NamedTuple):
    changes: list  # [Change], sorted by component and key
    revision: int  # etcd's revision the comparison was read at
    source: str  # the document's name (a path, or "standard input")
    unchanged: list = []  # [Change] of keys etcd already holds as the document says (diff context)
    held: list = []  # [Change] to published keys that apply would not make (kept)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FAILED if self.changes else ExitCode.OK)  # kubectl diff's convention: 1 = different


@dataclass(frozen=True)
class DocumentOptions:
    """How a settings document is read and planned against etcd: the options `config apply`
    and `config diff` share (diff leaves new_component and new_key aside: it writes nothing),
    declared once for the CLI, deisctl.api and the collection's config module
    (tests/unit/test_doors.py compares them)."""

    prune: bool = False  # also delete keys of the document's components that it does not name
    strict: bool = False  # refuse components and keys the schema does not know
    keep_masked: bool = False  # a value that is MASK leaves the key as it is
    any_file: bool = False  # {file: PATH} may read outside the document's folder
    delete_protected: tuple = ()  # COMPONENT/KEY that prune deletes although published or secret
    write_published: tuple = ()  # COMPONENT/KEY written although the component publishes it
    new_component: bool = False  # a component neither the schema nor etcd knows may be written
    new_key: bool = False  # a key that looks like a typo of a known one may be written
    base_dir: Optional[str] = None  # where a document given as data resolves {file: PATH}


def _warn_all(inv, warnings: list[str]) -> None:
    for message in warnings[:LIST_LIMIT]:
        inv.warn(message)
    if len(warnings) > LIST_LIMIT:
        inv.warn(f"... and {len(warnings) - LIST_LIMIT} more warnings of this kind")


def export(inv, components: Sequence[str], *, show_secrets: bool, include_published: bool = False) -> Exported:
    """Every key of the components (all when none), read at one revision; without
    include_published, not the keys components publish about themselves (host, port, ...)."""
    from deisctl import keys as keyspec
    from deisctl import plan

    layout = inv.settings.layout
    wanted = list(dict.fromkeys(keyspec.validate_component(c) for c in components)) or None
    with open_store(inv) as store:
        snap = store.snapshot([layout.component(c) for c in wanted] if wanted else [layout.root])
    rows = [snap.rows[k] for k in sorted(snap.rows)]
    document, warnings, masked = plan.export_document(rows, layout, wanted, show_secrets, include_published)
    _warn_all(inv, warnings)
    for name in wanted or ():
        if not document.get(name):
            if name in COMPONENT_VERBS:  # `config export get` meant the keys of a component "export"
                raise UsageError(f"'deisctl config export {name}' exports a component named {name!r}, which has "
                                 "no keys; 'export' is a command, so no component can be named export",
                                 hint="to read a component's keys: 'deisctl config COMPONENT get'")
            inv.warn(f"{name}: no keys under {layout.component(name)}")
    return Exported(document, masked, show_secrets)



Source = Union[str, Mapping]  # a document's path (`-`: the invocation's stdin), or the document itself


def _load(inv, file: Source, options: DocumentOptions):
    """The whole document, validated before anything is read from etcd. A mapping (deisctl.api)
    is checked as a file would be; its {file: PATH} entries are relative to base_dir (default:
    the current directory)."""
    import os

    from deisctl import document

    if isinstance(file, Mapping):
        doc = document.from_mapping(file, source="the settings given", base_dir=options.base_dir or os.getcwd(),
                                    env=inv.env, strict=options.strict, keep_masked=options.keep_masked,
                                    any_file=options.any_file)
    else:
        doc = document.load(file, stdin=inv.stdin, env=inv.env, strict=options.strict,
                            keep_masked=options.keep_masked, any_file=options.any_file)
    return doc  # its warnings are given by _plan, after a refusal could have been


def _plan(inv, store, doc, options: DocumentOptions, writing: bool = False):
    """Every listed component read at one revision, and what apply would change. writing: for
    apply, its components and keys are checked first (targets.check_write)."""
    from deisctl import plan
    from deisctl.ops import registration, targets

    layout = inv.settings.layout
    snap = store.snapshot([layout.component(c) for c in doc.components])
    if writing:
        for component, entries in doc.components.items():
            targets.check_write(inv, store, component, list(entries), targets.relative(inv, component, snap.rows),
                                new_component=options.new_component, new_key=options.new_key, strict=options.strict)
    _warn_all(inv, doc.warnings)
    entries = doc.components.get("controller", {})
    if registration.LEGACY in entries:
        mode = snap.rows.get(layout.key("controller", registration.MODE))
        registration.warn_if_contradicting(inv, "controller", {k: e.value for k, e in entries.items()},
                                           mode.text if mode else None)
    planned = plan.plan(doc, snap, layout, prune=options.prune, delete_protected=options.delete_protected,
                        write_published=options.write_published)
    if planned.held:
        inv.note(f"kept {len(planned.held)} key(s) the components publish about this cluster, although the "
                 f"document differs: {first_few(c.name for c in planned.held)} (name one with "
                 f"{inv.option('write_published', 'COMPONENT/KEY')} to write it)")
    if planned.kept:
        inv.note(f"{inv.name_of('prune')} keeps {len(planned.kept)} key(s) that components publish or that hold secrets: "
                 f"{first_few(c.name for c in planned.kept)} (name one with "
                 f"{inv.option('delete_protected', 'COMPONENT/KEY')} to delete it)")
    return snap, planned


def apply(inv, file: Source, options: DocumentOptions = DocumentOptions(), *, dry_run: bool = False,
          yes: bool = False, confirm_prune: Optional[Callable[[list, list], bool]] = None,
          progress: Optional[Callable[[int, int, int, int], None]] = None) -> Applied:
    """Make etcd match the document, writing only the keys that differ, each guarded by the
    revision it had when read (see README: what is atomic).

    A --prune that deletes any key needs a yes:
    `yes`, or confirm_prune(removals, emptied components) when someone can be asked (None: nobody
    can, so it is refused); else nothing is written.
    progress(transactions done, transactions, changes written, changes)."""
    doc = _load(inv, file, options)
    with open_store(inv) as store:
        snap, planned = _plan(inv, store, doc, options, writing=True)
        changes = planned.changes
        revision = 0
        if options.prune and not dry_run and not yes:
            _confirm_prune(inv, planned.removals(), planned.emptied(snap, inv.settings.layout), confirm_prune)
        if changes and not dry_run:
            total = len(changes)
            report = None if progress is None else (
                lambda done, batches, written: progress(done, batches, written, total))
            try:
                revision = store.guarded_write([(c.full_key, c.new) for c in changes],
                                    {c.full_key: c.mod_revision for c in changes}, progress=report)
            except PartlyApplied as stopped:  # what landed, for the output and the caller
                landed = set(stopped.written)
                stopped.result = Applied([c for c in changes if c.full_key in landed], False, planned.held,
                                         [c for c in changes if c.full_key not in landed])
                raise
    return Applied(changes, dry_run, planned.held, revision=revision)


def _confirm_prune(inv, removals: list, emptied: list, confirm_prune) -> None:
    if not removals:
        return
    what = f"{inv.name_of('prune')} would delete {len(removals)} key(s)"
    if emptied:
        what += f" and leave {first_few(emptied)} without any key"
    what += f" ({first_few(change.name for change in removals)})"
    if confirm_prune is None:
        raise UsageError(f"{what}; nothing was written", hint=f"pass {inv.option('yes')} to confirm; there is no terminal to ask on")
    if not confirm_prune(removals, emptied):
        raise UsageError(f"{what}: not confirmed; nothing was written")


def diff(inv, file: Source, options: DocumentOptions = DocumentOptions()) -> Compared:
    """What apply would change (etcd → the document). A failure that other commands report as 1
    is a ComparisonFailedError (exit 7): diff's 1 means "different"."""
    try:
        doc = _load(inv, file, options)
        with open_store(inv) as store:
            snap, planned = _plan(inv, store, doc, options)
    except DeisctlError as exc:
        if exc.exit_code != ExitCode.FAILED:
            raise
        raise ComparisonFailedError(exc.message, hint=exc.hint) from exc
    return Compared(planned.changes, snap.revision, doc.source, planned.unchanged, planned.held)
