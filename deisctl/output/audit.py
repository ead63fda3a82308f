"""Views of `deisctl audit`."""

from __future__ import annotations

from deisctl.output import View, one_line, table


def _changes(record: dict) -> str:
    changes = record.get("changes") or []
    text = ", ".join(f"{c['action']} {c['component']}/{c['key']}" for c in changes[:3])
    more = int(record.get("count", len(changes))) - min(3, len(changes))
    return text + (f" (+{more} more)" if more > 0 else "")


def records(result) -> View:
    """A table (text); the records with their fields (json, yaml)."""
    def lines():
        rows = [("SEQ", "REVISION", "TIME", "USER", "COMMAND", "REASON", "CHANGES")]
        for record in result.records:
            who = record.get("user", "?") + ("@" + record["host"] if record.get("host") else "")
            rows.append((str(record.get("seq")), str(record["revision"]), str(record.get("time", ""))[:19],
                         who, one_line(str(record.get("command", ""))), one_line(str(record.get("reason") or "-")),
                         _changes(record)))
        return table(rows) if result.records else ["no audit records"]

    return View(result.records, lines)


def verified(result) -> View:
    data = {"ok": result.problem is None, "records": result.count, "first": result.first,
            "problem": result.problem}

    def lines():
        if result.problem is None:
            trimmed = f" (records before {result.first} were trimmed)" if result.first > 1 else ""
            yield f"audit trail whole: {result.count} records{trimmed}"

    return View(data, lines)
