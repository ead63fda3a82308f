"""deisctl.keys: names, KEY=VALUE parsing, the key layout and secret masking (no servers)."""

from __future__ import annotations

import pytest

from deisctl import keys
from deisctl.errors import UsageError


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


@pytest.mark.parametrize("name", ["export", "apply", "diff", "schema"])
def test_command_names_are_not_component_names(name):
    with pytest.raises(UsageError, match="is a command"):
        keys.validate_component(name)


@pytest.mark.parametrize("key, secret", [
    ("sshPrivateKey", True), ("sslKey", True), ("builderKey", True), ("auth/ldap/bind/password", True),
    ("DB_PASSWORD", True), ("apiToken", True), ("clientSecret", True), ("secretKey", True),
    # any segment, the common spellings
    ("passwd", True), ("pwd", True), ("credentials", True), ("token/value", True), ("secrets/db", True),
    ("sessionkeys", True), ("myKEY", True), ("keys/list", True),
    ("registrationEnabled", False), ("sslCert", False), ("keyring", False), ("domain", False),
    ("workers", False), ("auth/ldap/bind/dn", False), ("host", False), ("monkeybusiness", False),
])
def test_secret_detection(key, secret):
    assert keys.is_secret(key) is secret
    assert keys.shown(key, "v", show_secrets=False) == ("********" if secret else "v")
    assert keys.shown(key, "v", show_secrets=True) == "v"


def test_a_private_key_is_masked_whatever_the_key():
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nx\n"
    assert keys.shown("sslCert", pem, show_secrets=False) == keys.MASK
    assert keys.shown("motd", "-----BEGIN PRIVATE KEY-----", show_secrets=False) == keys.MASK
    assert keys.shown("sslCert", pem, show_secrets=True) == pem
    assert keys.shown("sslCert", "-----BEGIN CERTIFICATE-----\n", show_secrets=False).startswith("-----BEGIN")


@pytest.mark.parametrize("arg", ["k=a\udcffb", "k\udcff=1", "k=\ud800"])
def test_text_that_is_not_utf8_is_refused(arg):
    with pytest.raises(UsageError, match="not UTF-8"):
        keys.parse_assignment(arg)


def test_layout_is_the_one_home_of_the_key_paths():
    layout = keys.Layout("/deis")
    assert layout.root == "/deis/"
    assert layout.component("controller") == "/deis/controller/"
    assert layout.key("controller", "auth/ldap/bind/dn") == "/deis/controller/auth/ldap/bind/dn"
    assert layout.split("/deis/controller/auth/ldap") == ("controller", "auth/ldap")
    assert layout.split("/deis/lonely") == ("", "lonely")
