"""deisctl.settings: option values and their precedence (no servers)."""

from __future__ import annotations

import pytest

from deisctl import settings as settings_mod
from deisctl.errors import UsageError
from deisctl.settings import normalize_prefix, split_endpoints


def test_prefix_and_endpoint_lists():
    assert normalize_prefix("/deis/") == "/deis"
    assert normalize_prefix("/a/b") == "/a/b"
    for bad in ("deis", "/", "/a//b", "/a/../b", "/a b"):
        with pytest.raises(UsageError):
            normalize_prefix(bad)
    assert split_endpoints(" http://a:1 , http://b:2,") == ["http://a:1", "http://b:2"]
    with pytest.raises(UsageError):
        split_endpoints(" , ")


def test_flag_over_environment_over_default():
    env = {"DEISCTL_PREFIX": "/env", "DEISCTL_DIAL_TIMEOUT": "3"}
    built = settings_mod.build({"prefix": "/flag"}, env)
    assert (built.prefix, built.dial_timeout, built.command_timeout) == ("/flag", 3.0, 5.0)
    assert built.sources["prefix"] == "flag or environment" and built.sources["command_timeout"] == "default"


def test_settings_are_immutable():
    built = settings_mod.build({}, {})
    with pytest.raises(AttributeError):
        built.prefix = "/other"


@pytest.mark.parametrize("flags, fragment", [
    ({"dial_timeout": "abc"}, "--dial-timeout"), ({"command_timeout": "0"}, "--command-timeout"),
    ({"command_timeout": "inf"}, "--command-timeout"), ({"output": "xml"}, "unknown output format"),
    ({"cert": "c.pem"}, "--cert and --key"), ({"prefix": "deis"}, "--prefix"), ({"prefix": ""}, "--prefix ''"),
])
def test_bad_values_are_usage_errors(flags, fragment):
    with pytest.raises(UsageError, match=fragment):
        settings_mod.build(flags, {})


def test_no_password_without_a_terminal():
    with pytest.raises(UsageError, match="no password") as raised:
        settings_mod.build({"user": "root"}, {})
    assert "DEISCTL_PASSWORD" in raised.value.hint
    assert settings_mod.build({"user": "root"}, {}, password_prompt=lambda q: "pw").password == "pw"
    assert settings_mod.build({"user": "root"}, {"DEISCTL_PASSWORD": "envpw"}).password == "envpw"
