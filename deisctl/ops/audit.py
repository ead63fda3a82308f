"""`deisctl audit [COMPONENT]`, `audit verify`, `audit repair`, `audit policy`: the records
deisctl's writes left (deisctl.etcd.audit), read back, filtered, checked for gaps and edits (in
etcd, and against the anchors outside it: this machine's, and a head the caller kept), the head
rebuilt from the records, the cluster's retention policy."""

from __future__ import annotations

from typing import NamedTuple, Optional

from deisctl.errors import ExitCode, UsageError, declares_outcome
from deisctl.ops.access import open_store


class AuditList(NamedTuple):
    records: list  # [dict]: the record's fields and its revision, oldest first (damaged: {seq, damaged})


@declares_outcome
class AuditVerified(NamedTuple):
    count: int  # records checked
    first: int  # the first kept (older ones were trimmed)
    problem: Optional[str]  # None: the chain is whole, and holds every anchor checked
    head: str = ""  # "SEQ:HASH" of the head verified ("" when damaged): keep it to pass as --expect-head
    anchors: tuple = ()  # what the trail was checked against beyond itself ("this machine's anchor (record N)", ...)

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
    the last `limit` of them. A damaged record is listed as such (and never matches a filter)."""
    from deisctl.etcd import audit

    count = None
    if limit is not None:
        try:
            count = int(limit)
        except ValueError:
            count = 0
        if count <= 0:
            raise UsageError(f"{inv.name_of('limit')} must be a positive whole number, got {limit!r}")
    with open_store(inv) as store:
        state = audit.entries(store, inv.settings.prefix)
    if state.head is None:
        inv.warn(f"the audit trail's head is damaged ({state.head_problem}): {audit.REPAIR_HINT}")
    rows = []
    filtered = component or key or since
    for entry in state.entries:
        record = entry.record
        if record.get("damaged"):
            if not filtered:
                rows.append(dict(record, revision=entry.revision))
            continue
        changes = record["changes"]
        if component and not any(c["component"] == component for c in changes) \
                and component not in (record.get("components") or {}):
            continue
        if key and not any(c["key"] == key and (not component or c["component"] == component) for c in changes):
            continue
        if since and str(record.get("time", "")) < since:
            continue
        rows.append(dict(record, revision=entry.revision))
    return AuditList(rows[-count:] if count else rows)


def parse_head(text: str) -> tuple[int, str]:
    """SEQ:HASH, as `audit verify` prints a head (the --expect-head a CI job kept)."""
    seq, _, hash_ = (text or "").partition(":")
    if not seq.isdigit() or len(hash_) != 64 or any(c not in "0123456789abcdef" for c in hash_):
        raise UsageError(f"--expect-head takes SEQ:HASH as 'deisctl audit verify' prints it, got {text[:80]!r}")
    return int(seq), hash_


def verify(inv, expect_head: Optional[str] = None) -> AuditVerified:
    """Whether every record since the first kept is there, unchanged, in order; and whether the
    trail still holds the head this machine last saw (its anchor outside etcd) and the head the
    caller expects. A whole trail becomes this machine's anchor."""
    from deisctl.etcd import audit

    expected = parse_head(expect_head) if expect_head is not None else None
    with open_store(inv) as store:
        state = audit.entries(store, inv.settings.prefix)
    anchors = _anchors(inv)
    problem = audit.verify(state.head, state.entries, state.head_problem)
    checked = []
    local = anchors.get(state.cluster_id, inv.settings.prefix) if anchors else None
    for name, anchor in (("the head given (--expect-head)", expected),
                         ("this machine's anchor", (local.seq, local.hash) if local else None)):
        if anchor is None:
            continue
        checked.append(f"{name} (record {anchor[0]})")
        whose = "--expect-head names" if name.startswith("the head") else \
            f"this machine saw{f' at {local.time}' if local and local.time else ''} as"
        problem = problem or audit.check_anchor(state.head, state.entries, anchor[0], anchor[1], whose)
    head = state.head
    first = head.first if head is not None else 1
    shown = f"{head.seq}:{head.hash}" if head is not None and head.seq else ""
    if problem is None and anchors is not None and head is not None:
        anchors.saw(state.cluster_id, inv.settings.prefix, head.seq, head.hash)
    return AuditVerified(len(state.entries), first, problem, shown, tuple(checked))


def _anchors(inv):
    """This machine's anchors of the trail outside etcd (deisctl.anchors), or None when off."""
    if not inv.settings.audit_anchors:
        return None
    from deisctl.anchors import Anchors

    return Anchors(inv.settings.audit_anchors)


class Repaired(NamedTuple):
    was: int  # the head's record number before (-1: missing or damaged)
    record: int  # the repair's own record


def repair(inv) -> Repaired:
    """A head rebuilt from the records there are (their own chain whole), and a record saying so."""
    from deisctl.etcd import audit

    with open_store(inv) as store:
        was, record = audit.repair(store, inv.settings.prefix, dict(inv.settings.actor), _anchors(inv))
    return Repaired(was, record)


class PolicyShown(NamedTuple):
    keep: Optional[int]
    max_age_days: Optional[float]
    stored: bool  # the cluster's own (else deisctl's default)
    changed: bool
    damaged: str = ""


def policy(inv, keep: Optional[str] = None, max_age: Optional[str] = None) -> PolicyShown:
    """The cluster's retention policy; with keep and/or max_age (a number, or all / none for no
    limit), set it (the other part kept as it is), recorded in the trail itself."""
    from deisctl.etcd import audit

    with open_store(inv) as store:
        current = audit.entries(store, inv.settings.prefix).policy
        if keep is None and max_age is None:
            return PolicyShown(current.keep, current.max_age_days, current.stored, False, current.damaged)
        new_keep = current.keep if keep is None else _limit(keep, inv.name_of("keep"), int, "all")
        new_age = current.max_age_days if max_age is None else _limit(max_age, inv.name_of("max_age_days", flag="--max-age"),
                                                                       float, "none")
        audit.set_policy(store, inv.settings.prefix, dict(inv.settings.actor), new_keep, new_age, _anchors(inv))
    return PolicyShown(new_keep, new_age, True, True)


def _limit(text: str, option: str, kind, unlimited: str):
    if text.strip().lower() == unlimited:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not value > 0 or value == float("inf"):
        raise UsageError(f"{option} takes a positive number or {unlimited}, got {text!r}")
    return value
