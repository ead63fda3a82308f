"""`config COMPONENT set|get|rm`: component settings under <prefix>/<component>/."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from deisctl import keys as keyspec
from deisctl.errors import NotFoundError, UsageError
from deisctl.ops import registration
from deisctl.ops.access import open_store


class SetResult(NamedTuple):
    changes: list  # [Change], in the order given


class Values(NamedTuple):
    values: dict  # key -> raw bytes, in the order asked


class Listing(NamedTuple):
    items: dict  # key (relative to the component) -> text, sorted


class Removed(NamedTuple):
    keys: list  # keys deleted, in the order given


def set_values(inv, component: str, pairs: Sequence[str], *, strict: bool, dry_run: bool = False) -> SetResult:
    """Validate every KEY=VALUE first, then write them all in one transaction (dry_run: read the
    current values instead, and write nothing)."""
    from deisctl import schema  # validators: only needed to write
    from deisctl.change import Change

    checked = {}
    for arg in pairs:
        key, value = keyspec.parse_assignment(arg)
        if key in checked:
            raise UsageError(f"key {key!r} given twice")
        checked[key] = schema.check(component, key, value, strict=strict, env=inv.env)
    for item in checked.values():
        for message in item.warnings:
            inv.warn(message)

    layout = inv.settings.layout
    items = [(layout.key(component, k), c.value) for k, c in checked.items()]
    with open_store(inv) as store:
        if component == "controller" and registration.LEGACY in checked:
            mode = store.get(layout.key("controller", registration.MODE))
            registration.warn_if_contradicting(inv, component, {k: c.value for k, c in checked.items()},
                                               mode.text if mode else None)
        if dry_run:
            found = store.get_many([full for full, _ in items])
            previous = [found.get(full) for full, _ in items]
            inv.note("dry run: nothing written")
        else:
            previous = store.put_many(items)
            if not previous.known:
                inv.note("note: etcd's reply to the write was lost; the values are written, but what the keys "
                         "held before could not be established (previous: unknown)")
    known = getattr(previous, "known", True)
    return SetResult([Change(component, key, prev.text if prev else None, item.value, layout.key(component, key),
                             old_known=known) for (key, item), prev in zip(checked.items(), previous)])


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

        if component not in schema.COMPONENTS:  # most likely a typo: not an empty answer
            close = schema.closest_component(component)
            raise NotFoundError(f"no keys under {base}, and {component!r} is not a known component"
                                + (f"; did you mean {close!r}?" if close else ""))
        inv.note(f"no keys under {base}")
    return Listing(items)


def remove(inv, component: str, keys: Sequence[str], *, ignore_missing: bool, dry_run: bool = False) -> Removed:
    """Delete keys in one transaction; a missing key deletes nothing unless ignore_missing
    (dry_run: check and report, delete nothing)."""
    for key in keys:
        keyspec.validate_key(key)
    layout = inv.settings.layout
    wanted = list(dict.fromkeys(keys))
    full = [layout.key(component, k) for k in wanted]
    with open_store(inv) as store:
        if dry_run:
            found = store.get_many(full)
            missing = [k for k in full if k not in found]
            if missing and not ignore_missing:
                raise NotFoundError(f"not found: {', '.join(missing)}; nothing would be deleted",
                                    hint="--ignore-missing deletes the others")
            removed = list(found.values())
            inv.note("dry run: nothing deleted")
        else:
            removed = store.delete_many(full, must_exist=not ignore_missing)
    gone = {kv.key for kv in removed}
    return Removed([k for k in wanted if layout.key(component, k) in gone])



class SchemaTable(NamedTuple):
    rows: list  # [(component, component description, key, KeySpec)]


def describe_schema(inv, component: Optional[str]) -> SchemaTable:
    """The known keys (of one component, or all): what they accept, which Deis versions read them,
    which are secret, file-valued or published by the component itself."""
    from deisctl import schema

    if component is not None and component not in schema.COMPONENTS:
        close = schema.closest_component(component)
        raise NotFoundError(f"no schema for component {component!r}" + (f"; did you mean {close!r}?" if close else ""),
                            hint="known: " + ", ".join(schema.COMPONENTS))
    names = [component] if component else list(schema.COMPONENTS)
    return SchemaTable([(name, schema.COMPONENTS[name].description, key, spec)
                        for name in names for key, spec in schema.COMPONENTS[name].keys.items()])
