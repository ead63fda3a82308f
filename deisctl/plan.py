"""The change plan of `config apply` / `config diff` (a validated document against what etcd
holds), and the document `config export` writes."""

from __future__ import annotations

from typing import Iterable, NamedTuple, Optional

from deisctl import keys as keyspec
from deisctl import schema
from deisctl.change import Change
from deisctl.document import Document
from deisctl.errors import UsageError, first_few
from deisctl.keys import Layout, shown


class Plan(NamedTuple):
    changes: list  # [Change] that make etcd match the document, sorted by component and key
    unchanged: list  # [Change] of the document's keys etcd already holds (context for a diff)
    kept: list  # [Change] --prune leaves alone: published or secret keys not named to delete
    held: list = []  # [Change] the document would make to published keys, not named to write: not made

    def removals(self) -> list:
        return [c for c in self.changes if c.new is None]

    def emptied(self, snapshot, layout: Layout) -> list[str]:
        """Components that would be left without any key."""
        names = []
        for component in dict.fromkeys(c.component for c in self.removals()):
            base = layout.component(component)
            remaining = {k for k in snapshot.rows if k.startswith(base)}
            remaining -= {c.full_key for c in self.removals() if c.component == component}
            if not remaining and not any(c.component == component and c.new is not None for c in self.changes):
                names.append(component)
        return names


def plan(doc: Document, snapshot, layout: Layout, *, prune: bool, delete_protected: Iterable[str] = (),
         write_published: Iterable[str] = ()) -> Plan:
    """What makes etcd match the document. With prune, keys of the listed components that the
    document does not name are removed too, except protected ones (schema.protected) not named
    in delete_protected ("component/key"). Keys the components publish about themselves
    (schema.published: their host and port, generated secrets) belong to the cluster they run
    in: a document (exported from another cluster, perhaps) never adds or changes them unless
    they are named in write_published; those changes are `held`."""
    named = set(delete_protected)
    writable = set(write_published)
    changes, unchanged, kept, held = [], [], [], []
    for component in sorted(doc.components):
        entries = doc.components[component]
        base = layout.component(component)
        for key in sorted(entries):
            entry = entries[key]
            if entry.masked:
                continue
            kv = snapshot.rows.get(base + key)
            guarded = held if schema.published(component, key) and f"{component}/{key}" not in writable else changes
            if kv is None:
                guarded.append(Change(component, key, None, entry.value, base + key, 0))
            elif kv.value != entry.value.encode("utf-8"):
                guarded.append(Change(component, key, kv.text, entry.value, base + key, kv.mod_revision))
            else:
                unchanged.append(Change(component, key, kv.text, entry.value, base + key, kv.mod_revision))
        if prune:
            for full_key in sorted(k for k in snapshot.rows if k.startswith(base)):
                key = full_key[len(base):]
                if key not in entries:
                    kv = snapshot.rows[full_key]
                    change = Change(component, key, kv.text, None, full_key, kv.mod_revision)
                    protected = schema.protected(component, key) and f"{component}/{key}" not in named
                    (kept if protected else changes).append(change)
    changes.sort(key=lambda c: (c.component, c.key))
    return Plan(changes, unchanged, kept, held)


# -- export ------------------------------------------------------------------------------

def export_document(rows: Iterable, layout: Layout, components: Optional[list[str]], show_secrets: bool,
                    include_published: bool = True
                    ) -> tuple[dict, list[str], bool]:
    """(document, warnings, masked_any) from the KVs under the prefix; keys that apply would refuse
    are left out with a warning, and so are the keys components publish about themselves
    (schema.published) unless include_published: they describe this cluster, not the next."""
    doc: dict[str, dict[str, str]] = {c: {} for c in components or []}
    skipped: list[str] = []
    published: list[str] = []
    masked = False
    for kv in rows:
        component, key = layout.split(kv.key)  # ("", ...) without a component part: refused below
        if components is not None and component not in doc:
            continue
        try:
            keyspec.validate_component(component)
            keyspec.validate_key(key)
            text = kv.value.decode("utf-8")
        except (UsageError, UnicodeDecodeError):
            skipped.append(f"{kv.key} (not a <component>/<key> name or not UTF-8 text)")
            continue
        if text == "":
            skipped.append(f"{kv.key} (empty value)")
            continue
        if not include_published and schema.published(component, key):
            published.append(f"{component}/{key}")
            continue
        value = shown(key, text, show_secrets)
        masked = masked or value != text
        doc.setdefault(component, {})[key] = value
    warnings = []
    if published:
        warnings.append(f"left out {len(published)} key(s) the components publish about this cluster: "
                        f"{first_few(published)} (--include-published exports them)")
    if skipped:
        warnings.append(f"left out {len(skipped)} key(s) that apply could not write back: " + first_few(skipped))
    return {c: dict(sorted(v.items())) for c, v in sorted(doc.items())}, warnings, masked
