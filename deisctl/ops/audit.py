"""`deisctl audit [COMPONENT]` and `deisctl audit verify`: the records deisctl's writes left
(deisctl.etcd.audit), read back, filtered, and checked for gaps and edits."""

from __future__ import annotations

from typing import NamedTuple, Optional

from deisctl.errors import ExitCode, UsageError, declares_outcome
from deisctl.ops.access import open_store


class AuditList(NamedTuple):
    records: list  # [dict]: the record's fields and its revision, oldest first


@declares_outcome
class AuditVerified(NamedTuple):
    count: int  # records checked
    first: int  # the first kept (older ones were trimmed)
    problem: Optional[str]  # None: the chain is whole

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FAILED if self.problem else ExitCode.OK)

    @property
    def error(self) -> Optional[str]:
        return None if self.problem is None else f"the audit trail is broken: {self.problem}"


def list_records(inv, component: Optional[str] = None, key: Optional[str] = None, since: Optional[str] = None,
                 limit: Optional[str] = None) -> AuditList:
    """The records (with their revision), oldest first; those naming COMPONENT and/or KEY, at or
    after `since` (an ISO 8601 UTC time or date prefix, e.g. 2026-12-03 or 2026-12-03T10:00),
    the last `limit` of them."""
    from deisctl.etcd import audit

    count = None
    if limit is not None:
        try:
            count = int(limit)
        except ValueError:
            count = 0
        if count <= 0:
            raise UsageError(f"--limit must be a positive whole number, got {limit!r}")
    with open_store(inv) as store:
        _, found = audit.entries(store, inv.settings.prefix)
    rows = []
    for entry in found:
        record = entry.record
        changes = record.get("changes") or []
        if component and not any(c["component"] == component for c in changes) \
                and component not in (record.get("components") or {}):
            continue
        if key and not any(c["key"] == key and (not component or c["component"] == component) for c in changes):
            continue
        if since and str(record.get("time", "")) < since:
            continue
        rows.append(dict(record, revision=entry.revision))
    return AuditList(rows[-count:] if count else rows)


def verify(inv) -> AuditVerified:
    """Whether every record since the first kept is there, unchanged, in order."""
    from deisctl.etcd import audit

    with open_store(inv) as store:
        head, found = audit.entries(store, inv.settings.prefix)
    return AuditVerified(len(found), head.first, audit.verify(head, found))
