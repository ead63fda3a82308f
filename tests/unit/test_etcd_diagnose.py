"""What answers where etcd v3 does not, from its HTTP/1.1 reply (no server)."""

from __future__ import annotations

import pytest

from deisctl.etcd.diagnose import Reply, _describe, etcd_version
from deisctl.etcd.watch import answers_progress


@pytest.mark.parametrize("body, version", [
    ('{"etcdserver":"2.3.8","etcdcluster":"2.3.0"}', "2.3.8"),
    ('{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}\n', "3.4.23"),
    ("etcd 2.0.13", "2.0.13"),
    ("<html>404</html>", None),
    ('{"etcdserver": 2}', None),
    ("{not json}", None),
])
def test_etcd_version(body, version):
    assert etcd_version(body) == version


V2 = Reply(200, {}, '{"etcdserver":"2.3.8","etcdcluster":"2.3.0"}')
V3 = Reply(200, {}, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}')
NGINX = Reply(404, {"server": "nginx/1.22.1"}, "<html>404</html>")
GO_TLS = Reply(400, {}, "Client sent an HTTP request to an HTTPS server.\n")


def test_an_etcd2_server_is_named_with_its_keyspace():
    text = _describe(V2, secure=False, plain=True)
    assert text.startswith("an etcd 2.3.8 server") and "v2 keyspace" in text and "does not read" in text


def test_http_servers_that_are_not_etcd():
    assert _describe(NGINX, secure=False, plain=True) == \
        "not an etcd server: an HTTP server (nginx/1.22.1) answers here (GET /version: 404)"
    assert _describe(V3, secure=False, plain=True) is None  # etcd 3 answered HTTP: gRPC's reason stands


def test_https_endpoint_on_a_plain_server():
    assert _describe(V3, secure=True, plain=True) == \
        "not a TLS server: etcd 3.4.23 answers plain http here (use http://)"
    assert _describe(NGINX, secure=True, plain=True).startswith("not a TLS server: an HTTP server (nginx")


def test_http_endpoint_on_a_tls_server():
    assert _describe(GO_TLS, secure=False, plain=True) == "a TLS server: use https:// and --cacert"


@pytest.mark.parametrize("version, answers", [("3.4.23", True), ("3.5.0", True), ("4.0.0", True),
                                              ("3.3.27", False), ("2.3.8", False), ("", False), ("x.y", False)])
def test_progress_requests_only_to_servers_that_answer_them(version, answers):
    assert answers_progress(version) is answers
