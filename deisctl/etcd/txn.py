"""Guarded writes: each key written or deleted only if it still has the revision it was read
at, in transactions of at most MAX_TXN_OPS changes and MAX_REQUEST_BYTES (config apply, rollback)."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from deisctl.errors import (
    LIST_LIMIT,
    ConflictError,
    DeisctlError,
    PartlyApplied,
    UnreachableError,
    UsageError,
    first_few,
)
from deisctl.etcd.kv import get_many, key_bytes, key_text, prefix_range_end, request_bytes, value_bytes
from deisctl.limits import AUDIT_BYTES, AUDIT_OPS, MAX_REQUEST_BYTES, MAX_TXN_OPS, REQUEST_OVERHEAD


def batches_of(changes: Sequence[tuple[str, Optional[str]]], max_ops: int = MAX_TXN_OPS,
               room: int = MAX_REQUEST_BYTES - REQUEST_OVERHEAD) -> list:
    """Consecutive transactions of at most max_ops changes whose keys and values fit in `room`
    bytes of one request (each value alone was checked to fit before)."""
    batches, batch, size = [], [], 0
    for change in changes:
        weight = request_bytes([change])
        if batch and (len(batch) == max_ops or size + weight > room):
            batches.append(batch)
            batch, size = [], 0
        batch.append(change)
        size += weight
    if batch:
        batches.append(batch)
    return batches


def _refused_as_too_big(error: DeisctlError) -> bool:
    """etcd refused the transaction unexecuted for its size: a server with a smaller
    --max-txn-ops or --max-request-bytes than etcd's defaults (which deisctl batches for)."""
    text = error.message.lower()
    return isinstance(error, UsageError) and ("too many operations" in text or "as too large" in text)


def guarded_write(store, changes: Sequence[tuple[str, Optional[str]]], expected: dict,
                  progress: Optional[Callable[[int, int, int], None]] = None,
                  unchanged_under: Optional[tuple[str, int]] = None, guard_every_batch: bool = True) -> int:
    """Put (key, value) and delete (key, None), each key guarded by the mod_revision it had
    when it was read (expected[key]; missing or 0: the key must not exist).

    unchanged_under (prefix, revision): also no key under prefix may have been written or
    created after that revision (`config edit`: the whole component as it was read). One
    compare over the range; each later transaction compares against the one before it, or, with
    guard_every_batch False (`restore`: a whole keyspace, where a range compare in every
    transaction would cost a scan of it each time), only the first does: the later ones are
    guarded by their own keys' compares.

    Up to MAX_TXN_OPS changes that fit in one request: one transaction, all or nothing. More:
    consecutive transactions (batches_of), each all or nothing. A server that refuses a
    transaction for its size (smaller limits than etcd's defaults) gets the rest in halves,
    down to one change a transaction. A failure after some transactions were written (a
    conflict, a refusal, a lost member) is a PartlyApplied naming what was; before any, the
    failure itself (nothing was written). Returns the revision of the last transaction.
    progress(transactions done, transactions, changes written).
    """
    audited = store.settings.audit  # each transaction carries its record: room for it
    max_ops = MAX_TXN_OPS - (AUDIT_OPS if audited else 0) - (1 if unchanged_under else 0)
    room = MAX_REQUEST_BYTES - REQUEST_OVERHEAD - (AUDIT_BYTES if audited else 0)
    pending = batches_of(changes, max_ops, room)
    revision = done = 0
    written: list[str] = []
    while pending:
        batch = pending[0]
        total_batches = done + len(pending)
        if store.before_txn is not None:
            store.before_txn(done, total_batches)
        under = None if unchanged_under is None or (done and not guard_every_batch) else \
            (unchanged_under[0], revision or unchanged_under[1])
        try:
            revision = _write_batch(store, batch, expected, done, total_batches, len(written), len(changes), under)
        except DeisctlError as error:
            if _refused_as_too_big(error) and len(batch) > 1:
                max_ops, room = max(1, min(max_ops, len(batch)) // 2), max(1, room // 2)
                pending = batches_of([c for b in pending for c in b], max_ops, room)
                continue
            if not written:
                raise
            raise PartlyApplied(f"apply stopped after {len(written)} of {len(changes)} changes ({done} of "
                                f"{total_batches} transactions were written): {error.message}",
                                written=written, cause=error,
                                hint="the keys written are listed in the output; fix the cause and run it again "
                                     "to converge") from None
        pending.pop(0)
        done += 1
        written += [key for key, _ in batch]
        if progress:
            progress(done, done + len(pending), len(written))
    return revision


def _write_batch(store, batch, expected: dict, index: int, batches: int, written: int, total: int,
                 under: Optional[tuple[str, int]] = None) -> int:
    """One guarded transaction; its revision. under (prefix, revision): see guarded_write."""
    from etcd3.etcdrpc import Compare, TxnRequest

    request = TxnRequest()
    compare, success, failure = request.compare.add, request.success.add, request.failure.add
    for key, value in batch:
        raw = key_bytes(key)
        mod = expected.get(key) or 0
        if mod:
            compare(key=raw, result=Compare.EQUAL, target=Compare.MOD, mod_revision=mod)
        else:
            compare(key=raw, result=Compare.EQUAL, target=Compare.CREATE, create_revision=0)
        if value is None:
            success().request_delete_range.key = raw
        else:
            put = success().request_put
            put.key, put.value = raw, value_bytes(value)
        failure().request_range.key = raw
    if under is not None:  # nothing under the prefix written after `floor`; else, which keys were
        prefix, floor = key_bytes(under[0]), under[1]
        compare(key=prefix, range_end=prefix_range_end(under[0]), result=Compare.LESS, target=Compare.MOD,
                mod_revision=floor + 1)
        moved = failure().request_range
        moved.key, moved.range_end, moved.min_mod_revision = prefix, prefix_range_end(under[0]), floor + 1
        moved.keys_only, moved.limit = True, LIST_LIMIT + 1
    # Idempotent: a repeat after a lost reply fails its guards on its own writes (below).
    actions = [(key, "delete" if value is None else "put") for key, value in batch]
    try:
        response = store.run(lambda c: store.send_audited(c, request, actions), write=True)
    except UnreachableError as exc:
        if index:  # "the write" of the message is this transaction; say what came before
            exc.message += (f" (that is transaction {index + 1} of {batches}; the first {written} of "
                            f"{total} changes were written before it)")
        raise
    except DeisctlError as exc:
        # etcd applies a transaction that crosses the space quota and then answers "database
        # space exceeded" (only the next one is refused unapplied): look before saying it failed.
        landed = _landed(store, batch) if "database space exceeded" in exc.message else None
        if landed is None:
            raise
        return landed
    if not response.succeeded:
        replies = list(response.responses)
        moved = [key_text(kv.key) for kv in replies.pop().response_range.kvs] if under is not None else []
        current = {key_text(kv.key): kv for item in replies for kv in item.response_range.kvs}
        # A transaction retried after a lost connection may have been applied the first
        # time: its guards then fail on its own writes, and the state is already right.
        if not all((current[k].value == value_bytes(v)) if k in current else v is None for k, v in batch):
            raise ConflictError(_conflict_message(batch, current, expected, first=not written, moved=moved))
    return response.header.revision


def _landed(store, batch) -> Optional[int]:
    """The revision the batch was written at if every key holds what it wrote, else None."""
    now = get_many(store, [key for key, _ in batch])
    for key, value in batch:
        if (key in now) != (value is not None) or (value is not None and now[key].value != value_bytes(value)):
            return None
    revisions = {now[key].mod_revision for key, value in batch if value is not None}
    if not revisions:  # deletes only: landed, at a revision they do not show
        return 0
    return revisions.pop() if len(revisions) == 1 else None  # one transaction: one revision


def _conflict_message(batch, current: dict, expected: dict, *, first: bool, moved=()) -> str:
    changed = [k for k, _ in batch if (current[k].mod_revision if k in current else 0) != (expected.get(k) or 0)]
    changed += [k for k in moved if k not in changed]
    tail = "nothing was written" if first else "that transaction was not written"
    return f"changed by someone else since it was read: {first_few(changed)}; {tail}"
