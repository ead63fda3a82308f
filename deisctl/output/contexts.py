"""Views of `context list|show`."""

from __future__ import annotations

from deisctl.output import View


def context_list(result) -> View:
    data = [{"name": name, "current": current, "endpoints": endpoints} for name, current, endpoints in result.contexts]
    width = max([len(d["name"]) for d in data] + [4])
    return View(data, lambda: [f"{'*' if d['current'] else ' '} {d['name']:<{width}}  {d['endpoints'] or ''}".rstrip()
                               for d in data])


def context_settings(result) -> View:
    return View({"name": result.name, "settings": result.settings},
                lambda: [f"{k}={v}" for k, v in result.settings.items()])


def effective(result) -> View:
    def lines():
        yield f"context={result.context or '(none)'}"
        for k, row in result.settings.items():
            yield f"{k}={'' if row['value'] is None else row['value']}  ({row['source']})"

    return View({"context": result.context, "settings": result.settings}, lines)
