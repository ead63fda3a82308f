"""gRPC failures as deisctl errors: the message and exit code of each kind (no server)."""

from __future__ import annotations

import grpc
import pytest

from deisctl.errors import AuthError, DeisctlError, ExitCode, NotFoundError, UnreachableError, UsageError
from deisctl.etcd.errors import (LOST, NO_LEADER, NOT_SENT, TIMEOUT, CompactedError, answered, failure_kind,
                                 failure_text, map_rpc_error, probe_failure, short_reason, stream_failure,
                                 worth_diagnosing)


class RpcError(grpc.RpcError):
    """What gRPC raises: an RpcError that is also a Call with code() and details()."""

    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


class Done:
    """A finished future, as the probes are when they are read."""

    def __init__(self, error=None, cancelled=False):
        self._error, self._cancelled = error, cancelled

    def cancelled(self):
        return self._cancelled

    def exception(self):
        if self._cancelled:
            raise grpc.FutureCancelledError()
        return self._error


S = grpc.StatusCode


@pytest.mark.parametrize("details, reason", [
    ("Peer name etcd.internal is not in peer certificate; hostname verification failed",
     "TLS: the server certificate does not name this host (use the name it was issued for)"),
    # the words of gRPC 1.60 (the lowest allowed) and of today's gRPC, as they were seen
    ("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Peer name wrong.name is not in "
     "peer certificate", "TLS: the server certificate does not name this host (use the name it was issued for)"),
    ("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Custom verification check failed "
     "with error: UNAUTHENTICATED: Hostname Verification Check failed.",
     "TLS: the server certificate does not name this host (use the name it was issued for)"),
    ("Ssl handshake failed: SSL_ERROR_SSL: CERTIFICATE_VERIFY_FAILED",
     "TLS handshake failed (check --cacert and the endpoint's http/https scheme)"),
    ("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Connection refused",
     "connection refused"),
    ("Socket closed", "connection closed by the server"),  # diagnose.py says what is there, at dial time
    ("Failed parsing HTTP/2 (Expected SETTINGS frame as the first frame, got frame type 79)",
     "the server does not speak HTTP/2 (gRPC)"),
    ("failed to connect: something else", "something else"),
    ("", "connection failed"),
])
def test_short_reason(details, reason):
    assert short_reason(details) == reason


@pytest.mark.parametrize("code, details, kind, text", [
    (S.UNAUTHENTICATED, "etcdserver: authentication failed, invalid user ID or password", AuthError,
     "etcd at http://e:2379 refused: authentication failed, invalid user ID or password"),
    (S.INVALID_ARGUMENT, "etcdserver: user name is empty", AuthError, "etcd at http://e:2379 refused: user name is empty"),
    (S.PERMISSION_DENIED, "etcdserver: permission denied", AuthError, "refused: permission denied"),
    (S.INVALID_ARGUMENT, "etcdserver: too many operations in txn request", UsageError, "refused the transaction"),
    (S.INVALID_ARGUMENT, "etcdserver: request is too large", UsageError, "refused the request"),
    (S.UNAVAILABLE, "failed to connect to all addresses; Connection refused", UnreachableError,
     "etcd at http://e:2379: connection refused"),
    (S.DEADLINE_EXCEEDED, "Deadline Exceeded", UnreachableError, "etcd at http://e:2379: Deadline Exceeded"),
    (S.UNKNOWN, "etcdserver: mvcc: something odd", DeisctlError, "etcd at http://e:2379 failed: mvcc: something odd"),
])
def test_map_rpc_error(code, details, kind, text):
    error = map_rpc_error(RpcError(code, details), "http://e:2379")
    assert type(error) is kind
    assert text in error.message
    assert "etcdserver:" not in error.message


def test_empty_user_name_hints_at_user_option():
    error = map_rpc_error(RpcError(S.INVALID_ARGUMENT, "etcdserver: user name is empty"), "https://e:2379")
    assert error.exit_code == ExitCode.AUTH and "--user" in error.hint


def test_an_error_without_code_or_details_uses_its_text():
    class Bare(grpc.RpcError):
        def __str__(self):
            return "bare failure"

    error = map_rpc_error(Bare(), "http://e:2379")
    assert (type(error), error.message) == (DeisctlError, "etcd at http://e:2379 failed: bare failure")


def test_probe_answers_and_failures():
    assert answered(Done())
    assert answered(Done(RpcError(S.UNAUTHENTICATED, "auth")))  # a refusal is an answer
    assert not answered(Done(RpcError(S.UNAVAILABLE, "Connection refused")))
    assert not answered(Done(RpcError(S.DEADLINE_EXCEEDED, "Deadline Exceeded")))
    assert probe_failure(Done(RpcError(S.DEADLINE_EXCEEDED, "x")), 2.0) == "no answer within --dial-timeout 2s"
    assert probe_failure(Done(RpcError(S.UNAVAILABLE, "Connection refused")), 1.5) == "connection refused"


def test_a_cancelled_probe_did_not_answer():
    """A probe cancelled because another endpoint answered first (or listed twice) is no answer."""
    assert not answered(Done(cancelled=True))
    assert probe_failure(Done(cancelled=True), 2.0) == "no answer within --dial-timeout 2s"


def test_an_http2_server_that_is_not_etcd_did_not_answer():
    unimplemented = Done(RpcError(S.UNIMPLEMENTED, "Method not found: etcdserverpb.Maintenance/Status"))
    assert not answered(unimplemented)
    assert probe_failure(unimplemented, 2.0).startswith("not an etcd v3 server")


@pytest.mark.parametrize("code, details, kind", [
    (S.DEADLINE_EXCEEDED, "Deadline Exceeded", TIMEOUT),
    (S.UNAVAILABLE, "etcdserver: request timed out", TIMEOUT),
    (S.UNAVAILABLE, "etcdserver: request timed out, possibly due to previous leader failure", TIMEOUT),
    (S.UNKNOWN, "context deadline exceeded", TIMEOUT),
    (S.UNAVAILABLE, "etcdserver: leader changed", TIMEOUT),
    (S.UNAVAILABLE, "etcdserver: no leader", NO_LEADER),
    (S.UNAVAILABLE, "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Connection refused",
     NOT_SENT),
    (S.UNAVAILABLE, "Socket closed", LOST),
    (S.CANCELLED, "Channel closed!", LOST),
    (S.INVALID_ARGUMENT, "etcdserver: too many operations in txn request", None),
    (S.UNAUTHENTICATED, "etcdserver: invalid auth token", None),
])
def test_failure_kind(code, details, kind):
    assert failure_kind(RpcError(code, details)) == kind


def test_failure_text_names_the_limit_and_etcds_own_reason():
    assert failure_text(RpcError(S.DEADLINE_EXCEEDED, "Deadline Exceeded"), TIMEOUT, 2) == \
        "no answer within --command-timeout 2s"
    assert failure_text(RpcError(S.UNKNOWN, "context deadline exceeded"), TIMEOUT, 5) == \
        "no answer within --command-timeout 5s: context deadline exceeded"
    assert failure_text(RpcError(S.UNAVAILABLE, "etcdserver: no leader"), NO_LEADER, 5).startswith(
        "the member has no leader")


@pytest.mark.parametrize("details, text", [
    ("Socket closed", "the member closed the connection"),
    ("recvmsg:Connection reset by peer", "connection lost"),
    ("etcdserver: no leader", "the member lost its leader"),
    ("GOAWAY received", "the member is shutting down"),
])
def test_a_stream_that_had_worked_never_blames_tls(details, text):
    assert stream_failure(RpcError(S.UNAVAILABLE, details)) == text


def test_what_is_worth_diagnosing():
    assert worth_diagnosing("Socket closed")
    assert worth_diagnosing("Failed parsing HTTP/2")
    assert not worth_diagnosing("Connection refused")
    assert not worth_diagnosing("CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate")


def test_etcd_timeouts_and_leader_loss_map_to_unreachable():
    assert type(map_rpc_error(RpcError(S.UNKNOWN, "context deadline exceeded"), "http://e:2379")) is UnreachableError
    error = map_rpc_error(RpcError(S.UNAVAILABLE, "etcdserver: no leader"), "http://e:2379")
    assert type(error) is UnreachableError and "no leader" in error.message


def test_compacted_is_not_found_and_keeps_the_revision():
    error = CompactedError("compacted", 42, hint="history")
    assert isinstance(error, NotFoundError) and error.exit_code == ExitCode.NOT_FOUND
    assert (error.compact_revision, error.hint) == (42, "history")
