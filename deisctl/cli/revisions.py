"""`deisctl config COMPONENT history|rollback|watch`: etcd's MVCC revisions of a component's keys.

Only Click and the standard library at import time (the etcd client is imported in the
commands, through _open_store).
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Optional

import click

from deisctl import output
from deisctl.cli import completion
from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import component_of, output_option, invocation
from deisctl.errors import DeisctlError, NotFoundError, UsageError


def _text(key: str, value: Optional[bytes], show_secrets: bool) -> Optional[str]:
    from deisctl import plan
    from deisctl.keys import shown

    if value is None:
        return None
    return plan.one_line(shown(key, value.decode("utf-8", "backslashreplace"), show_secrets))


# -- history ---------------------------------------------------------------------------------

class HistoryResult(output.Result):
    def __init__(self, name, entries, compacted, current, show_secrets):
        self.name, self.entries, self.compacted = name, entries, compacted
        self.current, self.show_secrets = current, show_secrets

    def _rows(self):
        key = self.name.rsplit("/", 1)[-1]
        for entry in self.entries:
            event = "deleted" if entry.deleted else ("created" if entry.version == 1 else "changed")
            value = None if entry.deleted else entry.value
            yield entry.revision, event, value, key

    def data(self):
        from deisctl.keys import shown

        return {
            "key": self.name,
            "compacted_before": self.compacted or None,
            "entries": [
                {"revision": rev, "event": event,
                 "value": None if value is None else shown(key, value.decode("utf-8", "backslashreplace"),
                                                           self.show_secrets)}
                for rev, event, value, key in self._rows()
            ],
        }

    def lines(self):
        rows = list(self._rows())
        width = max([len(str(r[0])) for r in rows] + [8])
        yield f"{'REVISION':<{width}}  {'EVENT':<8} VALUE"
        last = len(rows) - 1
        for index, (rev, event, value, key) in enumerate(rows):
            text = _text(key, value, self.show_secrets) if value is not None else ""
            current = "  (current)" if index == last and self.current is not None else ""
            yield f"{rev:<{width}}  {event:<8} {text}{current}".rstrip()


@click.command("history", cls=DeisctlCommand)
@click.argument("key", metavar="KEY", shell_complete=completion.keys)
@click.option("--show-secrets", is_flag=True, help="Print secret values.")
@output_option
@click.pass_context
def history(ctx: click.Context, key: str, show_secrets: bool, fmt: Optional[str]) -> None:
    """Previous values of KEY with their etcd revisions, oldest first.

    As far back as etcd has not compacted its history (a note says when it has). etcd keeps no
    wall-clock times: revisions are the order of changes across the whole cluster.
    """
    from deisctl import keys as keyspec

    settings, component = invocation(ctx, fmt).settings, component_of(ctx)
    keyspec.validate_key(key)
    full = settings.component_prefix(component) + key
    with open_store(settings) as store:
        entries, compacted, current = store.history(full)
    if not entries and current is None:
        detail = f" (etcd compacted its history up to revision {compacted})" if compacted else ""
        raise NotFoundError(f"no history for {full}: it does not exist and etcd has no earlier value{detail}")
    if compacted:
        output.note(f"note: etcd compacted its history up to revision {compacted}: older values of "
                    f"{component}/{key} are gone")
    output.emit(HistoryResult(f"{component}/{key}", entries, compacted, current, show_secrets), settings.output)


# -- rollback -----------------------------------------------------------------------------

class RollbackResult(output.Result):
    def __init__(self, key, value, previous, revision, show_secrets):
        self.key, self.value, self.previous = key, value, previous
        self.revision, self.show_secrets = revision, show_secrets

    def data(self):
        from deisctl.keys import shown

        return {"key": self.key, "value": shown(self.key, self.value, self.show_secrets),
                "previous": shown(self.key, self.previous, self.show_secrets),
                "changed": self.value != self.previous, "revision": self.revision}

    def lines(self):
        from deisctl.keys import shown

        state = "restored" if self.value != self.previous else "unchanged"
        yield (f"{self.key}={shown(self.key, self.value, self.show_secrets)} "
               f"({state}: the value at revision {self.revision})")


@click.command("rollback", cls=DeisctlCommand)
@click.argument("key", metavar="KEY", shell_complete=completion.keys)
@click.option("--to-revision", required=True, metavar="N", help="An etcd revision, as listed by 'history'.")
@click.option("--show-secrets", is_flag=True, help="Print secret values.")
@output_option
@click.pass_context
def rollback(ctx: click.Context, key: str, to_revision: str, show_secrets: bool, fmt: Optional[str]) -> None:
    """Restore the value KEY had at revision N.

    Guarded: if the key changes between the read and the write, nothing is written (exit 6).
    A revision etcd has compacted is gone (exit 3); so is a revision where KEY did not exist.
    """
    from deisctl import keys as keyspec

    settings, component = invocation(ctx, fmt).settings, component_of(ctx)
    keyspec.validate_key(key)
    if not to_revision.isdigit() or int(to_revision) <= 0:
        raise UsageError(f"--to-revision must be a positive etcd revision, got {to_revision!r}")
    to_revision = int(to_revision)
    full = settings.component_prefix(component) + key
    with open_store(settings) as store:
        old = store.get_at(full, to_revision)
        if old is None:
            raise NotFoundError(f"{full} did not exist at revision {to_revision}",
                                hint=f"see 'deisctl config {component} history {key}'")
        current = store.snapshot([], [full]).rows.get(full)
        value = old.text
        if current is None or current.value != old.value:
            store.guarded_write([(full, value)], {full: current.mod_revision if current else 0})
    output.emit(RollbackResult(key, value, current.text if current else None, to_revision, show_secrets),
                settings.output)


# -- watch ---------------------------------------------------------------------------------

@click.command("watch", cls=DeisctlCommand)
@click.argument("key", required=False, metavar="[KEY]", shell_complete=completion.keys)
@click.option("--count", metavar="N", help="Stop after N changes.")
@click.option("--timeout", metavar="SECONDS", help="Stop after this long (exit 1 if --count was not reached).")
@click.option("--show-secrets", is_flag=True, help="Print secret values.")
@output_option
@click.pass_context
def watch(ctx: click.Context, key: Optional[str], count: Optional[str], timeout: Optional[str], show_secrets: bool,
          fmt: Optional[str]) -> None:
    """Print each change as 'key: old → new' (JSON lines with -o json) until interrupted.

    Survives the failure of a member: reconnects through another endpoint and resumes at the
    revision after the last one printed, so no change is missed or repeated. Ctrl-C stops it
    with exit status 130 and no error message; --count/--timeout stop it with 0.
    """
    from deisctl import keys as keyspec

    settings, component = invocation(ctx, fmt).settings, component_of(ctx)
    if count is not None:
        if not count.isdigit() or int(count) <= 0:
            raise UsageError(f"--count must be a positive number of changes, got {count!r}")
        count = int(count)
    if timeout is not None:
        from deisctl.settings import positive_seconds

        timeout = positive_seconds("--timeout", timeout)
    base = settings.component_prefix(component)
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    store = open_store(settings)
    try:
        from deisctl.store import prefix_range_end

        if key is not None:
            keyspec.validate_key(key)
            watched, range_end = base + key, None
        else:
            watched, range_end = base, prefix_range_end(base)
        start = store.snapshot([], [watched]).revision + 1

        def reconnecting(endpoint, reason, revision):
            output.note(f"watch: lost {endpoint} ({reason}); resuming at revision {revision} on another member")

        store.on_reconnect = reconnecting
        output.note(f"watching {watched}{'*' if key is None else ''} from revision {start}")
        # closing(): the stream is cancelled here, while the channel is open, not by the
        # garbage collector after store.close() (or at interpreter exit).
        with contextlib.closing(store.watch(watched, range_end, start, deadline)) as stream:
            for revision, events in stream:
                for event in events:
                    _print_event(event, base, settings.output, show_secrets)
                    seen += 1
                    if count is not None and seen >= count:
                        return
    finally:
        store.close()
    if count is not None:
        raise DeisctlError(f"timed out after {timeout:g}s: {seen} of {count} changes seen")


def _print_event(event, base: str, fmt: str, show_secrets: bool) -> None:
    kv = event.kv
    key = kv.key.decode("utf-8", "backslashreplace")[len(base):]
    deleted = event.type == 1
    old = event.prev_kv.value if event.HasField("prev_kv") else None
    new = None if deleted else kv.value
    if fmt == "text":
        before = _text(key, old, show_secrets) if old is not None else "(none)"
        after = "(deleted)" if deleted else _text(key, new, show_secrets)
        line = f"{key}: {before} → {after}"
    else:
        import json

        from deisctl.keys import shown

        record = {
            "key": key, "event": "delete" if deleted else "put", "revision": kv.mod_revision,
            "old": None if old is None else shown(key, old.decode("utf-8", "backslashreplace"), show_secrets),
            "new": None if new is None else shown(key, new.decode("utf-8", "backslashreplace"), show_secrets),
        }
        line = json.dumps(record, ensure_ascii=False)
        if fmt == "yaml":
            line = "--- " + line  # JSON is YAML: one document per change
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def open_store(settings):  # transitional: this module moves to deisctl.ops
    from deisctl.store import Store

    return Store(settings)
