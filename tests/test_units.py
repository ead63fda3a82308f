"""Pure logic: key syntax, KEY=VALUE parsing, masking, schema, endpoint parsing."""

from __future__ import annotations

import pytest

from deisctl import keys, schema
from deisctl.errors import UsageError
from deisctl.settings import normalize_prefix, split_endpoints
from deisctl.store import parse_endpoint


@pytest.mark.parametrize("arg, expected", [
    ("a=b", ("a", "b")),
    ("a=b=c", ("a", "b=c")),
    ("a==", ("a", "=")),
    ("auth/ldap/bind/dn=cn=x,dc=y", ("auth/ldap/bind/dn", "cn=x,dc=y")),
    ("k=multi\nline", ("k", "multi\nline")),
    ("k= spaced ", ("k", " spaced ")),
])
def test_parse_assignment_splits_at_the_first_equals(arg, expected):
    assert keys.parse_assignment(arg) == expected


@pytest.mark.parametrize("arg", ["novalue", "=v", "k=", "a/=1", "/a=1", "a//b=1", "../a=1", "a b=1", "ä=1"])
def test_parse_assignment_rejects(arg):
    with pytest.raises(UsageError):
        keys.parse_assignment(arg)


@pytest.mark.parametrize("name, ok", [("controller", True), ("my-addon2", True), ("0x", True), ("-x", False),
                                      ("Controller", False), ("a_b", False), ("", False), ("a/b", False)])
def test_component_names(name, ok):
    if ok:
        assert keys.validate_component(name) == name
    else:
        with pytest.raises(UsageError):
            keys.validate_component(name)


@pytest.mark.parametrize("key, secret", [
    ("sshPrivateKey", True), ("sslKey", True), ("builderKey", True), ("auth/ldap/bind/password", True),
    ("DB_PASSWORD", True), ("apiToken", True), ("clientSecret", True), ("secretKey", True),
    ("registrationEnabled", False), ("sslCert", False), ("keys/list", False), ("keyring", False),
])
def test_secret_detection(key, secret):
    assert keys.is_secret(key) is secret
    assert keys.shown(key, "v", show_secrets=False) == ("********" if secret else "v")
    assert keys.shown(key, "v", show_secrets=True) == "v"


def test_did_you_mean():
    assert schema.suggest("controller", "registrationEnable") == "registrationEnabled"
    assert schema.suggest("controller", "REGISTRATIONMODE") == "registrationMode"
    assert schema.suggest("controller", "zzzzzz") is None
    assert schema.suggest("nosuchcomponent", "x") is None


def test_every_known_key_has_a_valid_name_and_a_description():
    for component, spec in schema.COMPONENTS.items():
        keys.validate_component(component)
        for key, key_spec in spec.keys.items():
            keys.validate_key(key)
            assert key_spec.description


@pytest.mark.parametrize("value, ok", [("example.com", True), ("a.b.example.com.", True), ("localhost", False),
                                       ("ex_ample.com", False), ("-a.com", False), ("a..com", False),
                                       ("x" * 64 + ".com", False)])
def test_dns_name(value, ok):
    assert (schema.dns_name(value) is None) is ok


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


def test_prefix_and_endpoint_lists():
    assert normalize_prefix("/deis/") == "/deis"
    assert normalize_prefix("/a/b") == "/a/b"
    for bad in ("deis", "/", "/a//b", "/a/../b", "/a b"):
        with pytest.raises(UsageError):
            normalize_prefix(bad)
    assert split_endpoints(" http://a:1 , http://b:2,") == ["http://a:1", "http://b:2"]
    with pytest.raises(UsageError):
        split_endpoints(" , ")


def test_error_render_is_one_line():
    from deisctl.errors import NotFoundError

    err = NotFoundError("key\nnot found", hint="try\nthis")
    assert err.render() == "error: key not found (try this)"
    assert err.exit_code == 3
