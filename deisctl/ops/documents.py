"""`config export|apply|diff`: settings as a document kept in git and applied from playbooks."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

from deisctl.errors import ExitCode, UsageError
from deisctl.ops.access import open_store

MAX_WARNINGS = 5
COMPONENT_VERBS = ("get", "set", "rm", "history", "rollback", "watch")  # `config COMPONENT <verb>`


class Exported(NamedTuple):
    document: dict  # {component: {key: value}}, secrets masked unless asked for
    masked: bool  # some value is masked
    as_json: bool  # -o json, or a FILE ending in .json
    file: Optional[str]  # write here instead of stdout
    secret: bool  # the document holds secrets in clear (the file gets mode 0600)


class Applied(NamedTuple):
    changes: list  # [Change], sorted by component and key
    dry_run: bool


class Compared(NamedTuple):
    changes: list  # [Change], sorted by component and key
    revision: int  # etcd's revision the comparison was read at
    source: str  # the document's name (a path, or "standard input")
    unchanged: list = []  # [Change] of keys etcd already holds as the document says (diff context)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FAILED if self.changes else ExitCode.OK)  # kubectl diff's convention: 1 = different


def _warn_all(inv, warnings: list[str]) -> None:
    for message in warnings[:MAX_WARNINGS]:
        inv.warn(message)
    if len(warnings) > MAX_WARNINGS:
        inv.warn(f"... and {len(warnings) - MAX_WARNINGS} more warnings of this kind")


def export(inv, components: Sequence[str], *, file: Optional[str], show_secrets: bool) -> Exported:
    """Every key of the components (all when none), read at one revision."""
    from deisctl import keys as keyspec
    from deisctl import plan

    layout = inv.settings.layout
    wanted = list(dict.fromkeys(keyspec.validate_component(c) for c in components)) or None
    with open_store(inv) as store:
        snap = store.snapshot([layout.component(c) for c in wanted] if wanted else [layout.root])
    rows = [snap.rows[k] for k in sorted(snap.rows)]
    document, warnings, masked = plan.export_document(rows, layout, wanted, show_secrets)
    _warn_all(inv, warnings)
    for name in wanted or ():
        if not document.get(name):
            if name in COMPONENT_VERBS:  # `config export get` meant the keys of a component "export"
                raise UsageError(f"'deisctl config export {name}' exports a component named {name!r}, which has "
                                 "no keys; 'export' is a command, so no component can be named export",
                                 hint="to read a component's keys: 'deisctl config COMPONENT get'")
            inv.warn(f"{name}: no keys under {layout.component(name)}")
    as_json = inv.output == "json" or (inv.output == "text" and (file or "").endswith(".json"))
    return Exported(document, masked, as_json, None if file in (None, "-") else file, show_secrets)


PRUNE_ASK_OVER = 5  # --prune asks before deleting more keys than this (or emptying a component)


def _compare(inv, file: str, *, prune: bool, strict: bool, keep_masked: bool, any_file: bool,
             delete_protected=()):
    """Validate the whole document first, then read every listed component at one revision."""
    from deisctl import document, plan

    doc = document.load(file, stdin=inv.stdin, strict=strict, keep_masked=keep_masked, any_file=any_file)
    _warn_all(inv, doc.warnings)
    layout = inv.settings.layout
    store = open_store(inv)
    try:
        snap = store.snapshot([layout.component(c) for c in doc.components])
    except BaseException:
        store.close()
        raise
    _warn_registration(inv, doc, snap, layout)
    planned = plan.plan(doc, snap, layout, prune=prune, delete_protected=delete_protected)
    if planned.kept:
        names = ", ".join(c.name for c in planned.kept[:5]) + (" ..." if len(planned.kept) > 5 else "")
        inv.note(f"--prune keeps {len(planned.kept)} key(s) that components publish or that hold secrets: {names} "
                 "(name one with --delete-protected COMPONENT/KEY to delete it)")
    return doc, store, snap, planned


def _warn_registration(inv, doc, snap, layout) -> None:
    """A document that sets registrationEnabled but not registrationMode (see ops.config)."""
    from deisctl.ops import registration

    entries = doc.components.get("controller", {})
    legacy = entries.get(registration.LEGACY)
    if legacy is None or legacy.value is None or registration.MODE in entries:
        return
    mode = snap.rows.get(layout.key("controller", registration.MODE))
    message = registration.contradiction(legacy.value, mode.text if mode else None)
    if message:
        inv.warn(message)


def apply(inv, file: str, *, dry_run: bool, prune: bool, strict: bool, keep_masked: bool, any_file: bool = False,
          yes: bool = False, delete_protected: Sequence[str] = (),
          confirm_prune: Optional[Callable[[list, list], bool]] = None,
          progress: Optional[Callable[[int, int, int, int], None]] = None) -> Applied:
    """Make etcd match the document, writing only the keys that differ, each guarded by the
    revision it had when read (see README: what is atomic).

    A --prune that deletes more than PRUNE_ASK_OVER keys or empties a component needs a yes:
    `yes`, or confirm_prune(removals, emptied components) on a terminal; else nothing is written.
    progress(transactions done, transactions, changes written, changes)."""
    _doc, store, snap, planned = _compare(inv, file, prune=prune, strict=strict, keep_masked=keep_masked,
                                          any_file=any_file, delete_protected=delete_protected)
    changes = planned.changes
    with store:
        if prune and not dry_run and not yes:
            _confirm_prune(inv, planned.removals(), planned.emptied(snap, inv.settings.layout), confirm_prune)
        if changes and not dry_run:
            total = len(changes)
            report = None if progress is None else (
                lambda done, batches, written: progress(done, batches, written, total))
            store.guarded_write([(c.full_key, c.new) for c in changes],
                                {c.full_key: c.mod_revision for c in changes}, progress=report)
    return Applied(changes, dry_run)


def _confirm_prune(inv, removals: list, emptied: list, confirm_prune) -> None:
    if len(removals) <= PRUNE_ASK_OVER and not emptied:
        return
    what = f"--prune would delete {len(removals)} key(s)"
    if emptied:
        what += f" and leave {', '.join(emptied)} without any key"
    if not inv.is_terminal or confirm_prune is None:
        raise UsageError(f"{what}; nothing was written", hint="pass --yes to confirm; there is no terminal to ask on")
    if not confirm_prune(removals, emptied):
        raise UsageError(f"{what}: not confirmed; nothing was written")


def diff(inv, file: str, *, prune: bool, strict: bool, keep_masked: bool, any_file: bool = False,
         delete_protected: Sequence[str] = ()) -> Compared:
    """What apply would change (etcd → the document)."""
    doc, store, snap, planned = _compare(inv, file, prune=prune, strict=strict, keep_masked=keep_masked,
                                         any_file=any_file, delete_protected=delete_protected)
    store.close()
    return Compared(planned.changes, snap.revision, doc.source, planned.unchanged)
