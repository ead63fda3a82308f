"""etcd v3 access, one concern a module: endpoints and channels (endpoints), gRPC failures as
deisctl errors (errors), the client with its dialling and failover (client), reads and plain
writes (kv), guarded multi-transaction writes (txn), past revisions (history), watching with
reconnect (watch) and per-member status (status).

Callers use `deisctl.etcd.client.Store`; this file imports nothing, so that importing one
submodule loads only what that submodule needs.
"""
