"""`config COMPONENT set|get|rm`: component settings under <prefix>/<component>/."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from deisctl import keys as keyspec
from deisctl.errors import NotFoundError, UnreachableError, UsageError, first_few
from deisctl.ops import registration
from deisctl.ops.access import open_store


class SetResult(NamedTuple):
    changes: list  # [Change], in the order given
    revision: int = 0  # etcd's revision of the write (0: a dry run, or not known)


class Values(NamedTuple):
    values: dict  # key -> raw bytes, in the order asked


class Listing(NamedTuple):
    items: dict  # key (relative to the component) -> text, sorted


class Removed(NamedTuple):
    keys: list  # keys deleted (a dry run: that would be), in the order given
    previous: dict = {}  # key -> the value it held (text; bytes that are not UTF-8 escaped)


def set_values(inv, component: str, pairs: Sequence[str], *, strict: bool, dry_run: bool = False,
               new_component: bool = False, new_key: bool = False, from_stdin: bool = False,
               if_revision: Optional[str] = None) -> SetResult:
    """Validate every KEY=VALUE first, then write them all in one transaction (dry_run: read the
    current values instead, and write nothing). The component must be known to the schema or
    etcd, and no key a near miss of a known one (ops.targets), unless new_component / new_key.
    from_stdin: pairs is one KEY, whose value is read from the invocation's stdin (a secret
    stays out of argv). if_revision: write only if none of the keys changed after that revision
    (else ConflictError, exit 6, nothing written): `consul kv put -cas` for scripts."""
    from deisctl import schema  # validators: only needed to write
    from deisctl.change import Change
    from deisctl.ops import targets

    keyspec.validate_component(component)
    not_after = None
    if if_revision is not None:
        if not str(if_revision).isdigit() or int(if_revision) <= 0:
            raise UsageError(f"{inv.name_of('if_revision')} must be a positive etcd revision, got {if_revision!r}")
        not_after = int(if_revision)
    checked = {}
    if from_stdin:
        checked.update(_value_from_stdin(inv, component, pairs, strict))
    for arg in () if from_stdin else pairs:
        key, value = keyspec.parse_assignment(arg)
        if key in checked:
            raise UsageError(f"key {key!r} given twice")
        checked[key] = schema.check(component, key, value, strict=strict, env=inv.env)

    layout = inv.settings.layout
    items = [(layout.key(component, k), c.value) for k, c in checked.items()]
    with open_store(inv) as store:
        def existing() -> list:
            try:
                return targets.relative(inv, component, store.keys_under(layout.component(component)))
            except UnreachableError as exc:  # the read before the write: nothing was sent to write
                raise UnreachableError(f"{exc.message}; the write was not applied", hint=exc.hint) from None

        targets.check_write(inv, store, component, list(checked), existing, new_component=new_component,
                            new_key=new_key, strict=strict)
        for item in checked.values():
            for message in item.warnings:
                inv.warn(message)
        if component == "controller" and registration.LEGACY in checked:
            mode = store.get(layout.key("controller", registration.MODE))
            registration.warn_if_contradicting(inv, component, {k: c.value for k, c in checked.items()},
                                               mode.text if mode else None)
        if dry_run:
            found = store.get_many([full for full, _ in items])
            previous = [found.get(full) for full, _ in items]
            inv.note("dry run: nothing written")
        else:
            previous = store.put_many(items, not_after)
            if not previous.known:
                inv.note("note: etcd's reply to the write was lost; the values are written, but what the keys "
                         "held before could not be established (previous: unknown)")
    known = getattr(previous, "known", True)
    return SetResult([Change(component, key, prev.text if prev else None, item.value, layout.key(component, key),
                             old_known=known) for (key, item), prev in zip(checked.items(), previous)],
                     getattr(previous, "revision", 0))


def _value_from_stdin(inv, component: str, pairs: Sequence[str], strict: bool) -> dict:
    """{KEY: Checked} for `set KEY --from-stdin`: the value is standard input's text without its
    final newlines (as `$(cat)` gives), or the answer to a hidden prompt on a terminal; for a
    file-valued key, the content to store (not a path)."""
    from deisctl import document, schema
    from deisctl.limits import MAX_VALUE_BYTES, too_large

    if len(pairs) != 1 or "=" in pairs[0]:
        raise UsageError("--from-stdin takes exactly one KEY (no =VALUE): its value is read from standard input")
    key = keyspec.validate_key(keyspec.require_utf8(pairs[0], "a key"))
    if inv.prompt is not None and inv.stdin.isatty():
        value = inv.prompt(f"value of {component}/{key}: ", secret=True)
    else:
        reader = getattr(inv.stdin, "buffer", inv.stdin)
        data = reader.read(MAX_VALUE_BYTES + 1)
        if len(data) > MAX_VALUE_BYTES:
            raise UsageError(too_large(f"{component}/{key}", len(data)))
        try:
            value = data.decode("utf-8") if isinstance(data, bytes) else keyspec.require_utf8(data, "standard input")
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
    value = value.rstrip("\n")
    if not value:
        raise UsageError(f"no value for {component}/{key} on standard input", hint="use 'rm' to delete a key")
    spec = schema.key_spec(component, key)
    if spec is not None and spec.file:  # stdin holds the content itself, as a document's plain string does
        return {key: schema.Checked(key, document.content_of_file_key(component, key, spec, value), [])}
    return {key: schema.check(component, key, value, strict=strict)}


def get_values(inv, component: str, keys: Sequence[str]) -> Values:
    """The values of keys, read at one revision; every key must exist (else exit 3)."""
    for key in keys:
        keyspec.validate_key(key)
    layout = inv.settings.layout
    wanted = list(dict.fromkeys(keys))
    with open_store(inv) as store:
        found = store.get_many([layout.key(component, k) for k in wanted])
        missing = [k for k in wanted if layout.key(component, k) not in found]
        if missing:
            from deisctl.ops import targets

            raise NotFoundError(f"key not found: {first_few(layout.key(component, k) for k in missing)}"
                                + targets.key_suggestion(inv, store, component, missing[0]))
    return Values({k: found[layout.key(component, k)].value for k in wanted})


def list_component(inv, component: str) -> Listing:
    """Every key of the component, sorted; an empty listing says so on stderr."""
    base = inv.settings.layout.component(component)
    with open_store(inv) as store:
        rows = store.list_prefix(base)
        items = {kv.key[len(base):]: kv.text for kv in rows}
        if not items:
            from deisctl import schema
            from deisctl.ops import targets

            if component not in schema.COMPONENTS:  # most likely a typo: not an empty answer
                raise NotFoundError(f"no keys under {base}, and {component!r} is not a known component"
                                    + targets.component_suggestion(inv, store, component))
    if not items:
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
                from deisctl.ops import targets

                raise NotFoundError(f"not found: {first_few(missing)}; nothing would be deleted"
                                    + targets.key_suggestion(inv, store, component, missing[0][len(layout.component(
                                        component)):]), hint=f"{inv.option('ignore_missing')} deletes the others")
            removed = list(found.values())
            inv.note("dry run: nothing deleted")
        else:
            from deisctl.etcd.kv import MissingKeys

            try:
                removed = store.delete_many(full, must_exist=not ignore_missing)
            except MissingKeys as exc:
                from deisctl.ops import targets

                first = exc.missing[0][len(layout.component(component)):]
                raise NotFoundError(exc.message + targets.key_suggestion(inv, store, component, first),
                                    hint=exc.hint) from None
    gone = {kv.key: kv for kv in removed}
    keys = [k for k in wanted if layout.key(component, k) in gone]
    return Removed(keys, {k: gone[layout.key(component, k)].value.decode("utf-8", "backslashreplace") for k in keys})



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
