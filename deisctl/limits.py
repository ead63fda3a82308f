"""The limits deisctl checks before anything is sent, so that a request etcd would refuse (or a
file that would exhaust memory) is a clear usage error instead of a half-done operation."""

# etcd's defaults: --max-txn-ops and --max-request-bytes (a server may be configured otherwise;
# one configured lower is still reported, as a refusal, by the etcd layer).
MAX_TXN_OPS = 128
MAX_REQUEST_BYTES = 1572864  # 1.5 MiB
# Room left in a request for the keys, the framing and the guards of a transaction.
REQUEST_OVERHEAD = 64 * 1024
MAX_VALUE_BYTES = MAX_REQUEST_BYTES - REQUEST_OVERHEAD
# A settings document larger than this is refused before it is parsed.
MAX_DOCUMENT_BYTES = 128 * 1024 * 1024  # room for an export of a component larger than one gRPC message
# YAML aliases are refused; nesting deeper than this is too.
MAX_DOCUMENT_DEPTH = 50
# What a command on a node may print (one line of it, or all of a command whose output is read
# whole) before deisctl stops reading: room for a controller's dump of its database (one reply
# line), where a hostile or broken node could otherwise fill memory until the remote timeout.
MAX_NODE_OUTPUT_BYTES = 256 * 1024 * 1024
# Of a node command's stderr, the end is kept (its last line goes into the error line).
NODE_STDERR_KEPT_BYTES = 64 * 1024


def too_large(name: str, size: int) -> str:
    return (f"value of {name} too large ({size} bytes; etcd accepts at most {MAX_REQUEST_BYTES} bytes per "
            "request, keys and framing included)")
AUDIT_KEEP = 10000  # audit records kept when the cluster has no policy (deisctl audit policy)
AUDIT_MAX_AGE_DAYS = 365  # days an audit record is kept, likewise
AUDIT_OPS = 3  # operations an audit record adds to a transaction (record, head, trim)
AUDIT_BYTES = 16 * 1024  # room an audit record may take in a request (bigger change lists are summarised)
