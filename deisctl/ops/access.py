"""The one way operations reach etcd: a Store for the invocation's cluster (through the
--tunnel bastion when one is set)."""

from __future__ import annotations


def open_store(inv, via=None):
    """A Store for inv.settings. `via`: an already open tunnel to share (users, dock, check),
    left open at close; without one, --tunnel opens a tunnel that the Store closes."""
    from deisctl.etcd.client import Store  # imports gRPC: only for commands that talk to etcd

    if via is not None or not inv.settings.tunnel:
        return Store(inv.settings, via=via)
    from deisctl.etcd.endpoints import parse_endpoints
    from deisctl.ops.reach import open_tunnel  # paramiko: only when a tunnel is asked for

    parse_endpoints(inv.settings)  # a bad endpoint is refused before the bastion is dialled
    tunnel = open_tunnel(inv)
    try:
        return Store(inv.settings, via=tunnel, on_close=tunnel.close)
    except BaseException:
        tunnel.close()
        raise
