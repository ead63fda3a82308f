"""`config COMPONENT history|rollback|watch`: etcd's MVCC revisions of a component's keys."""

from __future__ import annotations

import time
from typing import Iterator, NamedTuple, Optional

from deisctl import keys as keyspec
from deisctl.change import Change
from deisctl.errors import AuthError, DeisctlError, NotFoundError, UsageError
from deisctl.ops.access import open_store


class History(NamedTuple):
    component: str
    key: str
    entries: list  # [HistoryEntry], oldest first
    compacted: int  # etcd compacted its history up to this revision (0: not)
    exists: bool  # the key exists now (its last entry is the current value)
    authors: dict = {}  # revision -> the audit record written with it (deisctl.etcd.audit); absent: unknown


class Rolledback(NamedTuple):
    change: Change  # old: the value before, new: the value restored
    revision: int


class WatchEvent(NamedTuple):
    change: Change  # new None: deleted; old None: created (or not known)
    revision: int


def history(inv, component: str, key: str) -> History:
    """Every put and delete of the key that etcd still has, oldest first."""
    keyspec.validate_key(key)
    full = inv.settings.layout.key(component, key)
    with open_store(inv) as store:
        entries, compacted, current = store.history(full)
        if not entries and current is None:
            from deisctl.ops import targets

            detail = f" (etcd compacted its history up to revision {compacted})" if compacted else ""
            raise NotFoundError(f"no history for {full}: it does not exist and etcd has no earlier value{detail}"
                                + targets.key_suggestion(inv, store, component, key))
        authors = {}
        if entries:
            from deisctl.etcd import audit

            try:  # who wrote each revision, where deisctl recorded it
                authors = audit.at_revisions(store, inv.settings.prefix, entries[0].revision, entries[-1].revision)
            except AuthError:
                inv.warn("the audit records are not readable with this etcd user: authors are not shown")
    if compacted:
        inv.note(f"note: etcd compacted its history up to revision {compacted}: older values of "
                 f"{component}/{key} are gone")
    return History(component, key, entries, compacted, current is not None, authors)


def rollback(inv, component: str, key: str, to_revision: str) -> Rolledback:
    """Restore the value the key had at a revision, guarded against a concurrent change."""
    keyspec.validate_key(key)
    if not to_revision.isdigit() or int(to_revision) <= 0:
        raise UsageError(f"{inv.name_of('to_revision')} must be a positive etcd revision, got {to_revision!r}")
    revision = int(to_revision)
    full = inv.settings.layout.key(component, key)
    with open_store(inv) as store:
        old = store.get_at(full, revision)
        if old is None:
            from deisctl.ops import targets

            raise NotFoundError(f"{full} did not exist at revision {revision}"
                                + targets.key_suggestion(inv, store, component, key),
                                hint=f"see 'deisctl config {component} history {key}'")
        current = store.snapshot([], [full]).rows.get(full)
        if current is None or current.value != old.value:  # the exact bytes of that revision, whatever they are
            store.guarded_write([(full, old.value)], {full: current.mod_revision if current else 0})
    return Rolledback(Change(component, key, current.text if current else None, old.text, full), revision)


def watch(inv, component: str, key: Optional[str], *, count: Optional[str] = None,
          timeout: Optional[str] = None) -> Iterator[WatchEvent]:
    """Each change of the component's keys (or of one key) from now on, until --count changes or
    --timeout. Survives the failure of a member: resumes at the next revision on another one.
    Timing out before --count is an error (exit 1)."""
    from deisctl.etcd.kv import prefix_range_end
    from deisctl.settings import positive_seconds

    if count is not None and (not count.isdigit() or int(count) <= 0):
        raise UsageError(f"{inv.name_of('count')} must be a positive number of changes, got {count!r}")
    limit = int(count) if count is not None else None
    seconds = positive_seconds(inv.name_of("timeout"), timeout) if timeout is not None else None
    layout = inv.settings.layout
    base = layout.component(component)
    if key is not None:
        keyspec.validate_key(key)
    deadline = None if seconds is None else time.monotonic() + seconds
    seen = 0
    store = open_store(inv)
    try:
        watched, range_end = (base + key, None) if key is not None else (base, prefix_range_end(base))
        start = store.snapshot([], [watched]).revision + 1

        def reconnecting(endpoint: str, reason: str, revision: int) -> None:
            inv.note(f"watch: lost {endpoint} ({reason}); resuming at revision {revision} on another member")

        inv.note(f"watching {watched}{'*' if key is None else ''} from revision {start}")
        # The stream is closed here, while the channel is open, not by the garbage collector later.
        stream = store.watch(watched, range_end, start, deadline, on_reconnect=reconnecting)
        try:
            for events in stream:
                for event in events:
                    yield _event(event, component, base)
                    seen += 1
                    if limit is not None and seen >= limit:
                        return
        finally:
            stream.close()
    finally:
        store.close()
    if limit is not None:
        raise DeisctlError(f"timed out after {seconds:g}s: {seen} of {limit} changes seen")


def _event(event, component: str, base: str) -> WatchEvent:
    key = event.key.decode("utf-8", "backslashreplace")[len(base):]
    old = event.old.text if event.old is not None else None
    new = event.new.text if event.new is not None else None
    return WatchEvent(Change(component, key, old, new, base + key), event.revision)
