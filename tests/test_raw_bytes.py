"""Values and key names that are not UTF-8 (written by another client) round-trip exactly: text
output may escape them, what deisctl writes back never is. Real etcd; state read with a raw
client in bytes."""

from __future__ import annotations

import json

import etcd3
import pytest

from tests.helpers import write


@pytest.fixture
def raw(etcd):
    client = etcd3.client(host="127.0.0.1", port=etcd.members[0].client_port, timeout=10)
    yield client
    client.close()


def test_rollback_restores_the_exact_bytes(dctl, raw):
    first = raw.put(b"/deis/myapp/blob", b"\xff\xfe binary \x00").header.revision
    raw.put(b"/deis/myapp/blob", b"text")
    out = dctl("config", "myapp", "rollback", "blob", "--to-revision", str(first))
    assert out.exit_code == 0, out.stderr
    assert raw.get(b"/deis/myapp/blob")[0] == b"\xff\xfe binary \x00"
    shown = dctl("config", "myapp", "get")
    assert shown.stdout == "blob=\\xff\\xfe binary \\x00\n"  # the text listing escapes; etcd holds the bytes


def test_prune_deletes_a_key_whose_name_is_not_utf8_and_says_so_once(dctl, raw, tmp_path):
    raw.put(b"/deis/myapp/a", b"1")
    raw.put(b"/deis/myapp/caf\xe9", b"x")
    path = write(tmp_path, "myapp:\n  a: '1'\n")
    out = dctl("config", "apply", "-f", path, "--prune", "--yes", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert [c["action"] for c in json.loads(out.stdout)["changes"]] == ["removed"]
    assert [kv[1].key for kv in raw.get_prefix(b"/deis/myapp/")] == [b"/deis/myapp/a"]
    again = dctl("config", "apply", "-f", path, "--prune", "--yes", "-o", "json")
    assert json.loads(again.stdout) == {"changed": False, "changes": []}


def test_listing_escapes_a_key_that_is_not_utf8(dctl, raw):
    raw.put(b"/deis/myapp/caf\xe9", b"x")
    assert dctl("config", "myapp", "get").stdout == "caf\\xe9=x\n"
