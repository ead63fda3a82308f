"""`config COMPONENT set|get|rm`: component settings under <prefix>/<component>/."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from deisctl import keys as keyspec
from deisctl.change import Change
from deisctl.errors import NotFoundError, UsageError
from deisctl.ops.access import open_store


class SetResult(NamedTuple):
    changes: list  # [Change], in the order given


class Values(NamedTuple):
    values: dict  # key -> raw bytes, in the order asked


class Listing(NamedTuple):
    items: dict  # key (relative to the component) -> text, sorted


class Removed(NamedTuple):
    keys: list  # keys deleted, in the order given


def set_values(inv, component: str, pairs: Sequence[str], *, strict: bool) -> SetResult:
    """Validate every KEY=VALUE first, then write them all in one transaction."""
    from deisctl import schema  # validators: only needed to write

    checked = {}
    for arg in pairs:
        key, value = keyspec.parse_assignment(arg)
        if key in checked:
            raise UsageError(f"key {key!r} given twice")
        checked[key] = schema.check(component, key, value, strict=strict)
    for item in checked.values():
        for message in item.warnings:
            inv.warn(message)

    layout = inv.settings.layout
    with open_store(inv) as store:
        previous = store.put_many([(layout.key(component, k), c.value) for k, c in checked.items()])
    return SetResult([Change(component, key, prev.text if prev else None, item.value, layout.key(component, key))
                      for (key, item), prev in zip(checked.items(), previous)])


def get_values(inv, component: str, keys: Sequence[str]) -> Values:
    """The values of keys, read at one revision; every key must exist (else exit 3)."""
    for key in keys:
        keyspec.validate_key(key)
    layout = inv.settings.layout
    wanted = list(dict.fromkeys(keys))
    with open_store(inv) as store:
        found = store.get_many([layout.key(component, k) for k in wanted])
    missing = [layout.key(component, k) for k in wanted if layout.key(component, k) not in found]
    if missing:
        raise NotFoundError(f"key not found: {', '.join(missing)}")
    return Values({k: found[layout.key(component, k)].value for k in wanted})


def list_component(inv, component: str) -> Listing:
    """Every key of the component, sorted; an empty listing says so on stderr."""
    base = inv.settings.layout.component(component)
    with open_store(inv) as store:
        rows = store.list_prefix(base)
    items = {kv.key[len(base):]: kv.text for kv in rows}
    if not items:
        from deisctl import schema

        hint = ""
        if component not in schema.COMPONENTS:
            close = schema.closest_component(component)
            hint = f" ({component!r} is not a known component; did you mean {close!r}?)" if close else ""
        inv.note(f"no keys under {base}{hint}")
    return Listing(items)


def remove(inv, component: str, keys: Sequence[str], *, ignore_missing: bool) -> Removed:
    """Delete keys in one transaction; a missing key deletes nothing unless ignore_missing."""
    for key in keys:
        keyspec.validate_key(key)
    layout = inv.settings.layout
    wanted = list(dict.fromkeys(keys))
    with open_store(inv) as store:
        removed = store.delete_many([layout.key(component, k) for k in wanted], must_exist=not ignore_missing)
    gone = {kv.key for kv in removed}
    return Removed([k for k in wanted if layout.key(component, k) in gone])

