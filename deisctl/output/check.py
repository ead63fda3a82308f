"""The view of `check`: a table of CHECK, OK, DETAIL; JSON: a list of {check, ok, detail}."""

from __future__ import annotations

from deisctl.output import View


def checks(result) -> View:
    rows = result.rows
    data = [{"check": name, "ok": ok, "detail": detail} for name, ok, detail in rows]

    def lines():
        width = max([len(name) for name, _, _ in rows] + [5])
        yield f"{'CHECK':<{width}}  {'OK':<4}  DETAIL"
        for name, ok, detail in rows:
            yield f"{name:<{width}}  {'ok' if ok else 'FAIL':<4}  {detail}".rstrip()

    return View(data, lines)
