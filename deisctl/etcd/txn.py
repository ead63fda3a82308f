"""Guarded writes: each key written or deleted only if it still has the revision it was read
at, in transactions of at most MAX_TXN_OPS changes and MAX_REQUEST_BYTES (config apply, rollback)."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from deisctl.errors import ConflictError, UnreachableError, first_few
from deisctl.etcd.kv import raw_call, request_bytes
from deisctl.limits import MAX_REQUEST_BYTES, MAX_TXN_OPS, REQUEST_OVERHEAD


def batches_of(changes: Sequence[tuple[str, Optional[str]]]) -> list:
    """Consecutive transactions of at most MAX_TXN_OPS changes whose keys and values fit in one
    request (each value alone was checked to fit before)."""
    batches, batch, size = [], [], 0
    room = MAX_REQUEST_BYTES - REQUEST_OVERHEAD
    for change in changes:
        weight = request_bytes([change])
        if batch and (len(batch) == MAX_TXN_OPS or size + weight > room):
            batches.append(batch)
            batch, size = [], 0
        batch.append(change)
        size += weight
    if batch:
        batches.append(batch)
    return batches


def guarded_write(store, changes: Sequence[tuple[str, Optional[str]]], expected: dict,
                  progress: Optional[Callable[[int, int, int], None]] = None) -> int:
    """Put (key, value) and delete (key, None), each key guarded by the mod_revision it had
    when it was read (expected[key]; missing or 0: the key must not exist).

    Up to MAX_TXN_OPS changes that fit in one request: one transaction, all or nothing. More:
    consecutive transactions (batches_of), each all or nothing; a conflict stops at the
    transaction that detects it (the ones before it stay written). Returns the revision
    of the last transaction. progress(transactions done, transactions, changes written).
    """
    from etcd3.etcdrpc import Compare, TxnRequest

    batches = batches_of(changes)
    revision = written = 0
    for index, batch in enumerate(batches):
        if store.before_txn is not None:
            store.before_txn(index, len(batches))
        request = TxnRequest()
        compare, success, failure = request.compare.add, request.success.add, request.failure.add
        for key, value in batch:
            raw = key.encode("utf-8")
            mod = expected.get(key) or 0
            if mod:
                compare(key=raw, result=Compare.EQUAL, target=Compare.MOD, mod_revision=mod)
            else:
                compare(key=raw, result=Compare.EQUAL, target=Compare.CREATE, create_revision=0)
            if value is None:
                success().request_delete_range.key = raw
            else:
                put = success().request_put
                put.key, put.value = raw, value.encode("utf-8")
            failure().request_range.key = raw
        # Idempotent: a repeat after a lost reply fails its guards on its own writes (below).
        try:
            response = store.run(lambda c: raw_call(c, "kvstub", "Txn", request), write=True)
        except UnreachableError as exc:
            if index:  # "the write" of the message is this transaction; say what came before
                exc.message += (f" (that is transaction {index + 1} of {len(batches)}; the first {written} of "
                                f"{len(changes)} changes were written before it)")
            raise
        revision = response.header.revision
        if not response.succeeded:
            current = {kv.key.decode("utf-8", "backslashreplace"): kv
                       for item in response.responses for kv in item.response_range.kvs}
            # A transaction retried after a lost connection may have been applied the first
            # time: its guards then fail on its own writes, and the state is already right.
            if not all((current[k].value == v.encode("utf-8")) if k in current else v is None
                       for k, v in batch):
                raise ConflictError(_conflict_message(batch, batches, index, current, expected, len(changes)))
        written += len(batch)
        if progress:
            progress(index + 1, len(batches), written)
    return revision


def _conflict_message(batch, batches, index: int, current: dict, expected: dict, total: int) -> str:
    changed = [k for k, _ in batch if (current[k].mod_revision if k in current else 0) != (expected.get(k) or 0)]
    names = first_few(changed)
    if index == 0:
        tail = "nothing was written"
    else:
        written = sum(len(b) for b in batches[:index])
        tail = (f"the first {written} of {total} changes ({index} of {len(batches)} "
                "transactions) were written, the rest were not; run it again to converge")
    return f"changed by someone else since it was read: {names}; {tail}"
