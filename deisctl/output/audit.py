"""Views of `deisctl audit`."""

from __future__ import annotations

from deisctl.output import View, one_line, table


def _changes(record: dict) -> str:
    if record.get("damaged"):
        return f"damaged: {record['damaged']}"
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
            "problem": result.problem, "head": result.head or None, "checked_against": list(result.anchors)}

    def lines():
        if result.problem is None:
            trimmed = f" (records before {result.first} were trimmed)" if result.first > 1 else ""
            yield f"audit trail whole: {result.count} records{trimmed}"
            if result.head:
                yield f"head {result.head}"
            for anchor in result.anchors:
                yield f"holds {anchor}"

    return View(data, lines)


def repaired(result) -> View:
    was = "missing or damaged" if result.was < 0 else f"at record {result.was}"
    data = {"was": None if result.was < 0 else result.was, "record": result.record}
    return View(data, lambda: [f"audit trail head rebuilt from the records (it was {was}); the repair is record "
                               f"{result.record}"])


def policy(result) -> View:
    keep = "all" if result.keep is None else str(result.keep)
    age = "none" if result.max_age_days is None else f"{result.max_age_days:g} days"
    source = "the cluster's" if result.stored else "deisctl's default (the cluster has none)"
    data = {"keep": result.keep, "max_age_days": result.max_age_days, "stored": result.stored,
            "changed": result.changed, "damaged": result.damaged or None}

    def lines():
        yield f"keep: {keep} records; max age: {age} ({source})"
        if result.damaged:
            yield f"the stored policy is damaged ({result.damaged}): nothing is trimmed until it is set again"

    return View(data, lines)
