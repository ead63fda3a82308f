"""Which component and which keys a command means.

Every write names a component that the schema or etcd already knows (a brand-new one takes
--new-component), and no key that differs from a known or existing key of that component only
by case or by one edit (a near miss takes --new-key): an unattended run with a typo must not
create `/deis/controler/registrationEnabled` and exit 0. Every read that finds nothing says
what was probably meant, from the schema and from what etcd holds.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from deisctl import typos
from deisctl.commands import NEW_COMPONENT, NEW_KEY
from deisctl.errors import UsageError



def schema_keys(component: str) -> list[str]:
    from deisctl import schema

    spec = schema.COMPONENTS.get(component)
    return list(spec.keys) if spec else []


def etcd_components(inv, store) -> list[str]:
    """The components etcd has keys under (only asked for on the way to an error message)."""
    return store.first_segments(inv.settings.layout.root)


def known_components(inv, store) -> list[str]:
    from deisctl import schema

    return [*schema.COMPONENTS, *etcd_components(inv, store)]


def relative(inv, component: str, full_keys: Iterable[str]) -> list[str]:
    base = inv.settings.layout.component(component)
    return [key[len(base):] for key in full_keys if key.startswith(base)]


def check_write(inv, store, component: str, keys: Sequence[str], existing, *, new_component: bool,
                new_key: bool, strict: bool) -> None:
    """Refuse (a UsageError, before anything is written) a write to a component that neither
    the schema nor etcd knows, unless new_component; with strict, one the schema does not know;
    and keys that are near misses of a known or existing key, unless new_key. existing: the
    component's keys in etcd (relative), or a callable that reads them, called only when they
    matter (not for `set workers=4` on the controller: a known component and a known key)."""
    from deisctl import schema

    known = component in schema.COMPONENTS
    if callable(existing):
        outside_schema = set(keys) - set(schema_keys(component))
        needed = (not known and not new_component) or (bool(outside_schema) and not new_key)
        existing = existing() if needed else []
    if strict and not known:
        raise UsageError(f"{inv.name_of('strict')}: {component!r} is not a component the schema knows"
                         + typos.did_you_mean(component, schema.COMPONENTS),
                         hint=f"drop {inv.name_of('strict')} to write it anyway; 'deisctl config schema' lists the known ones")
    if not known and not existing and not new_component:
        where = inv.settings.layout.component(component)
        raise UsageError(f"unknown component {component!r}: neither the schema nor etcd ({where}) has it; "
                         "nothing was written" + typos.did_you_mean(component, known_components(inv, store)),
                         hint=f"to create a new component, rerun with {NEW_COMPONENT}")
    if new_key:
        return
    names = [*schema_keys(component), *existing]
    known_names = set(names)
    new = [key for key in keys if key not in known_names]
    if not new:
        return
    index = typos.NearMisses(names)
    for key in new:
        meant = index.of(key)
        if meant is not None:
            raise UsageError(f"{component}/{key} looks like a typo of {component}/{meant} (it differs only by case "
                             "or one character); nothing was written",
                             hint=f"to write {key} as a key of its own, rerun with {NEW_KEY}")


def key_suggestion(inv, store, component: str, key: str) -> str:
    """`; did you mean 'x'?` for a key that was not found (from the schema and from etcd); when
    the component itself is unknown to both (`config controler get ...`), the component meant."""
    from deisctl import schema

    existing = relative(inv, component, store.keys_under(inv.settings.layout.component(component)))
    if component not in schema.COMPONENTS and not existing:
        close = typos.closest(component, known_components(inv, store))
        return f"; {component!r} is not a known component" + (f"; did you mean {close!r}?" if close else "")
    return typos.did_you_mean(key, [*schema_keys(component), *existing])


def component_suggestion(inv, store, component: str) -> str:
    return typos.did_you_mean(component, known_components(inv, store))
