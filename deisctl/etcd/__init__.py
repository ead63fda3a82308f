"""etcd v3 access, one concern a module: endpoints and channels (endpoints), the local TLS files
and handshake refusals (tls), gRPC failures as deisctl errors (errors), what answers where etcd
v3 does not (diagnose), the client with its dialling and failover (client), reads and plain
writes (kv), guarded multi-transaction writes (txn), past revisions (history), watching with
reconnect (watch) and per-member status (status).

Callers use `deisctl.etcd.client.Store`; this file imports only os, so that importing one
submodule loads only what that submodule needs.
"""

import os

# Every import of gRPC in deisctl goes through this package, and this runs first. gRPC's C core
# logs on its own to file descriptor 2 (e.g. "E1129 ... ssl_transport_security.cc] ..." for a
# TLS mistake, even when another endpoint then answers); deisctl says what went wrong in its one
# `error:` line instead. GRPC_VERBOSITY is read when gRPC is first imported, so it is set here;
# a value the user set is kept: whoever sets it wants gRPC's own logs (with GRPC_TRACE, to debug).
os.environ.setdefault("GRPC_VERBOSITY", "NONE")
