"""deisctl.schema: known components and keys, validators, did-you-mean (no servers)."""

from __future__ import annotations

import pytest

from deisctl import keys, schema


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
