"""Per-member status (deisctl check): every endpoint probed at once, each answering for itself."""

from __future__ import annotations

from typing import NamedTuple

import grpc

from deisctl.etcd.endpoints import probe
from deisctl.etcd.errors import answered, map_rpc_error, probe_failure


class MemberStatus(NamedTuple):
    endpoint: str
    ok: bool
    detail: str = ""  # why it failed
    version: str = ""
    member_id: int = 0
    leader: int = 0
    raft_term: int = 0


def member_statuses(store) -> list[MemberStatus]:
    """Status of every endpoint, probed at once, within --dial-timeout + --command-timeout."""
    timeout = store.settings.dial_timeout + store.settings.command_timeout
    dialer = store.dialer
    channels, futures = {}, {}
    for ep in store.endpoints:
        channels[ep.url] = dialer.channel(ep)
        futures[ep.url] = probe(channels[ep.url], timeout)
    results = []
    for ep in store.endpoints:
        future = futures[ep.url]
        try:
            status = future.result()
            results.append(MemberStatus(ep.url, True, "", status.version, status.header.member_id,
                                        status.leader, status.raftTerm))
        except grpc.RpcError as exc:
            if answered(future):
                detail = map_rpc_error(exc, ep.url).message
            else:
                detail = dialer.failure(ep) or probe_failure(future, timeout)
            results.append(MemberStatus(ep.url, False, detail))
        finally:
            channels[ep.url].close()
    return results
