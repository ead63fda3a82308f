"""A component larger than one gRPC message (64 MiB): read in pages at one revision, so that get,
export, diff and apply all work. Real etcd; 70 values of 1 MiB written with a raw client."""

from __future__ import annotations

import json

import etcd3
import pytest

from tests.helpers import write

MIB = 1024 * 1024


@pytest.fixture
def big(etcd):
    raw = etcd3.client(host="127.0.0.1", port=etcd.members[0].client_port, timeout=30)
    try:
        for i in range(70):
            raw.put(f"/deis/big/k{i:02d}", chr(ord("a") + i % 26) * MIB)
    finally:
        raw.close()
    return etcd


def test_a_component_over_64_mib_can_be_listed_exported_diffed_and_applied(dctl, big, tmp_path):
    listing = dctl("-o", "json", "config", "big", "get")
    assert listing.exit_code == 0, listing.stderr
    values = json.loads(listing.stdout)
    assert len(values) == 70 and all(len(v) == MIB for v in values.values())

    path = str(tmp_path / "big.json")
    out = dctl("config", "export", "big", "-f", path)
    assert out.exit_code == 0, out.stderr
    assert len(json.load(open(path))["big"]) == 70

    assert dctl("config", "diff", "-f", path).exit_code == 0  # equal
    changed = write(tmp_path, json.dumps({"big": {"k00": "changed"}}), "one.json")
    out = dctl("config", "apply", "-f", changed, "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert [c["key"] for c in json.loads(out.stdout)["changes"]] == ["big/k00"]
    assert big.read("/deis/big/k00") == "changed"
