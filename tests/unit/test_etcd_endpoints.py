"""Endpoint URLs, and what the one channel builder dials (no server: channels connect lazily)."""

from __future__ import annotations

import shutil
import pytest

from deisctl.errors import UsageError
from deisctl.etcd.endpoints import Dialer, parse_endpoint, parse_endpoints
from deisctl.settings import Settings
from tests.rig.etcd import make_tls


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:2379", ("http://127.0.0.1:2379", "127.0.0.1", 2379, False)),
    ("https://etcd.example.com:4001", ("https://etcd.example.com:4001", "etcd.example.com", 4001, True)),
    ("127.0.0.1:2380", ("http://127.0.0.1:2380", "127.0.0.1", 2380, False)),
    ("http://[::1]:2379", ("http://[::1]:2379", "::1", 2379, False)),
    ("https://etcd", ("https://etcd", "etcd", 2379, True)),
])
def test_parse_endpoint(url, expected):
    ep = parse_endpoint(url)
    assert (ep.url, ep.host, ep.port, ep.secure) == expected


@pytest.mark.parametrize("url", ["ftp://h:1", "http://", "http://h:99999", "http://h:1/path", "http://h:x"])
def test_parse_endpoint_rejects(url):
    with pytest.raises(UsageError):
        parse_endpoint(url)


def test_ipv6_endpoint_is_bracketed_for_grpc():
    assert parse_endpoint("http://[::1]:2379").grpc_host == "[::1]"


def test_user_needs_tls_on_every_endpoint():
    settings = Settings(endpoints=("https://a:2379", "http://b:2379"), user="root")
    with pytest.raises(UsageError, match="--user needs https://"):
        parse_endpoints(settings)
    assert [ep.host for ep in parse_endpoints(settings._replace(user=None))] == ["a", "b"]


class FakeTunnel:
    def __init__(self):
        self.asked = []

    def local_address(self, host, port):
        self.asked.append((host, port))
        return "127.0.0.1", 40000 + len(self.asked)

    def failure(self, host, port):
        return f"bastion cannot reach {host}:{port}"


def test_through_a_tunnel_the_forwarder_is_dialled_and_the_tls_name_kept():
    tunnel = FakeTunnel()
    dialer = Dialer(Settings(), via=tunnel)
    ep = parse_endpoint("https://etcd.internal:2379")
    host, port, opts = dialer.target(ep)
    assert (host, port) == ("127.0.0.1", 40001)
    assert tunnel.asked == [("etcd.internal", 2379)]
    assert ("grpc.ssl_target_name_override", "etcd.internal") in opts
    assert dialer.failure(ep) == "bastion cannot reach etcd.internal:2379"


def test_direct_target_and_no_tunnel_failure():
    dialer = Dialer(Settings())
    ep = parse_endpoint("http://[::1]:2379")
    host, port, opts = dialer.target(ep)
    assert (host, port) == ("[::1]", 2379)
    assert not any(name == "grpc.ssl_target_name_override" for name, _ in opts)
    assert dialer.failure(ep) is None


def test_credentials_are_read_once_and_a_missing_file_is_a_usage_error(tls):
    dialer = Dialer(Settings(cacert=str(tls.ca)))
    assert dialer.credentials() is dialer.credentials()
    with pytest.raises(UsageError, match="cannot read --cacert file"):
        Dialer(Settings(cacert=str(tls.dir / "nope.pem"))).credentials()


@pytest.mark.parametrize("urls, expected", [
    (["http://127.0.0.1:2379", "127.0.0.1:2379", "HTTP://127.0.0.1:2379/", "http://127.0.0.1"],
     ["http://127.0.0.1:2379"]),
    (["http://Etcd.Example:2379", "http://etcd.example:2379", "https://etcd.example:2379"],
     ["http://Etcd.Example:2379", "https://etcd.example:2379"]),
    (["http://[::1]:2379", "http://[0:0::1]:2379", "http://[::1]:2380"], ["http://[::1]:2379", "http://[::1]:2380"]),
    (["http://b:1", "http://a:1", "http://b:1"], ["http://b:1", "http://a:1"]),  # order kept: earlier preferred
])
def test_an_endpoint_listed_twice_is_dialled_once(urls, expected):
    assert [ep.url for ep in parse_endpoints(Settings(endpoints=tuple(urls)))] == expected
