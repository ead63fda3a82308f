"""Secret masking and escaped text output against a real etcd: secrets by any path segment or by a
private key in the value, masked in every output; a value cannot forge a line of text output."""

from __future__ import annotations

import json

import pytest

from tests.helpers import CERT_PEM as CERT
from tests.helpers import PRIVATE_KEY_PEM as KEY
from tests.helpers import write


def test_a_private_key_is_masked_whatever_its_key(dctl, etcd, tmp_path):
    etcd.write("/deis/router/sslCert", CERT + KEY)  # written by some other tool
    etcd.write("/deis/myapp/notes", "see:\n" + KEY)
    for args in (("config", "router", "get"), ("config", "myapp", "get"), ("config", "export")):
        out = dctl(*args)
        assert out.exit_code == 0 and "secretbytes" not in out.stdout, args
    doc = write(tmp_path, "myapp:\n  notes: plain\n", "s.yaml")
    out = dctl("config", "diff", "-f", doc)
    assert out.exit_code == 1 and "secretbytes" not in out.stdout
    assert "secretbytes" in dctl("config", "myapp", "get", "--show-secrets").stdout


@pytest.mark.parametrize("key", ["passwd", "pwd", "credentials", "token/value", "secrets/db", "sessionkeys", "myKEY"])
def test_secrets_are_masked_by_any_path_segment(dctl, etcd, key):
    etcd.write(f"/deis/myapp/{key}", "hunter2")
    out = dctl("config", "myapp", "get")
    assert out.stdout == f"{key}=********\n"
    assert json.loads(dctl("config", "myapp", "get", "-o", "json").stdout) == {key: "********"}


def test_text_output_cannot_be_forged_by_a_value(dctl, etcd):
    etcd.write("/deis/myapp/motd", "hi\nsecretKey=forged\x1b[31m")
    out = dctl("config", "myapp", "get")
    assert out.stdout == "motd=hi\\nsecretKey=forged\\x1b[31m\n"
    assert json.loads(dctl("config", "myapp", "get", "-o", "json").stdout) == {"motd": "hi\nsecretKey=forged\x1b[31m"}
    assert dctl("config", "myapp", "get", "motd").stdout == "hi\nsecretKey=forged\x1b[31m\n"  # asked for: raw
