"""The one way operations reach etcd: a Store for the invocation's cluster (through the
--tunnel bastion when one is set)."""

from __future__ import annotations


def open_store(inv, via=None):
    """A Store for inv.settings; `via` is an already open tunnel to share (users, dock, check)."""
    from deisctl.store import Store  # imports gRPC: only for commands that talk to etcd

    return Store(inv.settings, via=via)
