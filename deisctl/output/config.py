"""Views of `config COMPONENT set|get|rm` results."""

from __future__ import annotations

from deisctl.keys import is_secret, shown
from deisctl.output import View, table


def set_result(result, show_secrets: bool) -> View:
    """One `key=value` line per pair (secrets masked); JSON: [{key, value, previous, changed,
    revision}] (revision: the write's, absent in a dry run)."""
    changes = result.changes
    data = [{"key": c.key, "value": shown(c.key, c.new, show_secrets), "previous": shown(c.key, c.old, show_secrets),
             "changed": c.changed, **({"revision": result.revision} if result.revision else {})} for c in changes]
    return View(data, lambda: (f"{c.key}={shown(c.key, c.new, show_secrets)}" for c in changes))


def values(result) -> View:
    """Text: each value raw, one per line, in the order asked (so `$(...)` works)."""
    data = {k: v.decode("utf-8", "backslashreplace") for k, v in result.values.items()}
    return View(data, lambda: data.values(), raw=list(result.values.values()))


def listing(result, show_secrets: bool) -> View:
    data = {k: shown(k, v, show_secrets) for k, v in result.items.items()}
    return View(data, lambda: (f"{k}={v}" for k, v in data.items()))


def removed(result) -> View:
    return View(list(result.keys), lambda: iter(result.keys))


def schema_table(result) -> View:
    """Per component: KEY, ACCEPTS, DEIS (versions that read it), NOTES, DESCRIPTION."""
    def notes(key, spec) -> str:
        flags = [name for name, on in (("secret", is_secret(key)), (f"file ({spec.file})", bool(spec.file)),
                                       ("published", spec.published)) if on]
        return ", ".join(flags) or "-"

    data = [{"component": component, "key": key, "description": spec.description, "accepts": spec.accepts,
             "deis": spec.deis, "secret": is_secret(key), "file": spec.file, "published": spec.published}
            for component, _desc, key, spec in result.rows]

    def lines():
        components = list(dict.fromkeys((c, d) for c, d, _k, _s in result.rows))
        for index, (component, description) in enumerate(components):
            if index:
                yield ""
            yield f"{component}: {description}"
            rows = [("  KEY", "ACCEPTS", "DEIS", "NOTES", "DESCRIPTION")]
            rows += [(f"  {key}", spec.accepts, spec.deis, notes(key, spec), spec.description)
                     for c, _d, key, spec in result.rows if c == component]
            yield from table(rows)

    return View(data, lines)
