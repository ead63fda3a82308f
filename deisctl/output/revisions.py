"""Views of `config COMPONENT history|rollback|watch`."""

from __future__ import annotations

from typing import Optional

from deisctl.keys import shown
from deisctl.output import View, one_line


def _text(key: str, value: Optional[str], show_secrets: bool) -> str:
    return one_line(shown(key, value, show_secrets))


def _author(record) -> Optional[dict]:
    if record is None:
        return None
    return {name: record.get(name) for name in ("user", "host", "etcd_user", "time", "command", "reason", "seq")}


def _by(record) -> str:
    """Who wrote a revision, from its audit record: [by USER@HOST at TIME: REASON]."""
    if record is None:
        return "[by unknown: not written by deisctl]"
    reason = f": {one_line(record['reason'])}" if record.get("reason") else ""
    return f"[by {record.get('user')}@{record.get('host')} at {str(record.get('time', ''))[:19]}{reason}]"


def history(result, show_secrets: bool) -> View:
    """REVISION EVENT VALUE, oldest first, the current value marked; JSON {key, compacted_before, entries}."""
    key = result.key  # the whole key relative to its component: keys.is_secret looks at every segment
    rows = []
    for entry in result.entries:
        event = "deleted" if entry.deleted else ("created" if entry.version == 1 else "changed")
        value = None if entry.deleted else entry.value.decode("utf-8", "backslashreplace")
        rows.append((entry.revision, event, value))
    data = {
        "key": f"{result.component}/{result.key}",
        "compacted_before": result.compacted or None,
        "entries": [{"revision": rev, "event": event, "value": shown(key, value, show_secrets),
                     "author": _author(result.authors.get(rev))} for rev, event, value in rows],
    }

    def lines():
        width = max([len(str(rev)) for rev, _, _ in rows] + [8])
        yield f"{'REVISION':<{width}}  {'EVENT':<8} VALUE"
        for index, (rev, event, value) in enumerate(rows):
            text = _text(key, value, show_secrets) if value is not None else ""
            current = "  (current)" if index == len(rows) - 1 and result.exists else ""
            yield f"{rev:<{width}}  {event:<8} {text}{current}".rstrip() + "  " + _by(result.authors.get(rev))

    return View(data, lines)


def rolled_back(result, show_secrets: bool) -> View:
    change = result.change
    data = {"key": change.key, "value": shown(change.key, change.new, show_secrets),
            "previous": shown(change.key, change.old, show_secrets), "changed": change.changed,
            "revision": result.revision}
    state = "restored" if change.changed else "unchanged"
    return View(data, lambda: [f"{change.key}={shown(change.key, change.new, show_secrets)} "
                               f"({state}: the value at revision {result.revision})"])


def watch_event(event, show_secrets: bool) -> tuple[dict, str]:
    """(JSON record, text line) of one change: `key: old → new`."""
    change = event.change
    key, deleted = change.key, change.new is None
    record = {"key": key, "event": "delete" if deleted else "put", "revision": event.revision,
              "old": shown(key, change.old, show_secrets), "new": shown(key, change.new, show_secrets)}
    before = _text(key, change.old, show_secrets) if change.old is not None else "(none)"
    after = "(deleted)" if deleted else _text(key, change.new, show_secrets)
    return record, f"{key}: {before} → {after}"

