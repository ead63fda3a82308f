"""Leases: how long a key that lives by one has left (a component's heartbeat)."""

from __future__ import annotations

from typing import Iterable, Optional

from deisctl.etcd.kv import raw_call


def time_left(store, leases: Iterable[int]) -> dict[int, Optional[int]]:
    """{lease: seconds left}, None for a lease that is gone (expired or revoked)."""
    from etcd3.etcdrpc import LeaseTimeToLiveRequest

    found: dict[int, Optional[int]] = {}
    for lease in sorted(set(leases)):
        reply = store.run(lambda client: raw_call(client, "leasestub", "LeaseTimeToLive",
                                                  LeaseTimeToLiveRequest(ID=lease)))
        found[lease] = reply.TTL if reply.TTL >= 0 else None
    return found
