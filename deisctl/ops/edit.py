"""`config COMPONENT edit`: one component as a settings document, changed in an editor and
written only if nobody changed the component since it was read (kubectl edit's rule).

The operation is in two halves around the editor (which the CLI runs: operations never touch
the terminal): `read_for_edit` reads the component at one revision; `apply_edit` validates the
edited text as `config apply` validates a file, and writes what differs in transactions that
also compare the whole component's range with the revision read, so that a key someone else
wrote, created or deleted meanwhile fails the write: nothing is written (exit 6).
"""

from __future__ import annotations

import os
from typing import NamedTuple

from deisctl.change import Change
from deisctl.errors import ConflictError, PartlyApplied, UsageError, first_few
from deisctl.ops.access import open_store


class Editing(NamedTuple):
    """A component as it was read for editing."""

    component: str
    document: dict  # {component: {key: value}}, secrets masked unless shown (a masked one left so is kept)
    revision: int  # etcd's revision it was read at: the write's guard
    rows: dict  # full key -> KV of the component at that revision

    @property
    def shown(self) -> dict:
        return self.document.get(self.component, {})


class Edited(NamedTuple):
    """What an edit changed: what its view (output.documents.edited) and its diff read."""

    changes: list  # [Change] written (or, when stopped part way, those that landed), by key
    revision: int  # etcd's revision after the last transaction (0: nothing written)
    read_at: int  # the revision the component was read at
    source: str  # the edited file
    unchanged: list = []  # [Change] of keys left as they were (the diff's context)
    not_written: list = []  # [Change] an edit that stopped part way did not write

    @property
    def compared(self):
        """The change as `config diff` shows it (etcd at the revision read → the file)."""
        from deisctl.ops.documents import Compared

        return Compared(self.changes + self.not_written, self.read_at, self.source, self.unchanged)


def read_for_edit(inv, component: str, *, show_secrets: bool, new_component: bool = False) -> Editing:
    """The component's keys at one revision, as the document the editor shows. Keys that a
    document cannot carry (not UTF-8, empty) are left out with a warning and left alone."""
    from deisctl import keys as keyspec
    from deisctl import plan
    from deisctl.ops import targets

    layout = inv.settings.layout
    keyspec.validate_component(component)
    with open_store(inv) as store:
        snap = store.snapshot([layout.component(component)])
        if not snap.rows:  # an unknown, empty component: a typo unless meant
            targets.check_write(inv, store, component, [], [], new_component=new_component, new_key=False,
                                strict=False)
    rows = [snap.rows[key] for key in sorted(snap.rows)]
    document, warnings, _masked = plan.export_document(rows, layout, [component], show_secrets, True)
    for message in warnings:
        inv.warn(message + "; edit leaves them as they are")
    return Editing(component, document, snap.revision, snap.rows)


def apply_edit(inv, editing: Editing, text: str, source: str, *, strict: bool = False,
               new_key: bool = False) -> Edited:
    """Validate the edited document (a UsageError naming every problem, nothing written) and
    write what differs from the component as it was read. A key left out is deleted; a value
    left masked is kept as it is. Nothing changed: nothing written (revision 0)."""
    from deisctl import document, plan
    from deisctl.ops import targets

    component, layout = editing.component, inv.settings.layout
    data = document.parse_document(text, source)
    if data is None:  # an empty file (or only comments): the editor's way to give up
        inv.note(f"{source} is empty: edit cancelled, nothing was written")
        return Edited([], 0, editing.revision, source)
    if not isinstance(data, dict) or set(data) != {component}:
        others = sorted(set(data) - {component}) if isinstance(data, dict) else []
        raise UsageError(f"{source}: the document must hold {component} and only it"
                         + (f" (it also names {first_few(others)})" if others else "")
                         + "; nothing was written")
    if data[component] in (None, ""):
        data = {component: {}}
    doc = document.build(data, source, os.getcwd(), env=inv.env, strict=strict, keep_masked=True,
                         any_file=False) if data[component] else None
    entries = doc.components.get(component, {}) if doc is not None else {}
    base = layout.component(component)
    removals = [Change(component, key, editing.rows[base + key].text, None, base + key,
                       editing.rows[base + key].mod_revision)
                for key in editing.shown if key not in entries]
    if doc is not None:
        targets.check_write(inv, None, component, list(entries), targets.relative(inv, component, editing.rows),
                            new_component=True, new_key=new_key, strict=strict)
        from deisctl.etcd.kv import Snapshot

        written_here = [f"{component}/{key}" for key in entries]  # this cluster's own values: no hold
        planned = plan.plan(doc, Snapshot(editing.revision, editing.rows), layout, prune=False,
                            write_published=written_here)
        changes, unchanged = planned.changes, planned.unchanged
        for message in doc.warnings:
            inv.warn(message)
    else:
        changes, unchanged = [], []
    changes = sorted(changes + removals, key=lambda c: c.key)
    if not changes:
        return Edited([], 0, editing.revision, source, unchanged)
    with open_store(inv) as store:
        _check_nothing_deleted(inv, store, editing)
        try:
            revision = store.guarded_write([(c.full_key, c.new) for c in changes],
                                           {c.full_key: c.mod_revision for c in changes},
                                           unchanged_under=(base, editing.revision))
        except PartlyApplied as stopped:
            landed = set(stopped.written)
            stopped.result = Edited([c for c in changes if c.full_key in landed], 0, editing.revision, source,
                                    unchanged, [c for c in changes if c.full_key not in landed])
            raise
    return Edited(changes, revision, editing.revision, source, unchanged)


def _check_nothing_deleted(inv, store, editing: Editing) -> None:
    """A key deleted by someone else since the read: the range compare of the write cannot see a
    key that is gone, so the key list is read again first."""
    now = set(store.keys_under(inv.settings.layout.component(editing.component), serializable=False))
    gone = sorted(set(editing.rows) - now)
    if gone:
        raise ConflictError(f"changed by someone else since it was read (at revision {editing.revision}): "
                            f"{first_few(gone)} deleted; nothing was written")
