"""Large applies against etcd servers with their own limits (--max-txn-ops, --max-request-bytes,
--quota-backend-bytes): batches adapt to a server that takes fewer or smaller transactions, and
an apply that stops part way says exactly what landed (text and JSON), exits 8, and converges
when run again. State checked with etcdctl."""

from __future__ import annotations

import json

import pytest

from tests.helpers import write
from tests.rig.etcd import EtcdCluster


@pytest.fixture
def server():
    started = []

    def start(*flags: str) -> EtcdCluster:
        cluster = EtcdCluster(1, name="limits", extra_args=list(flags)).start()
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


def document(tmp_path, n: int, size: int = 1) -> str:
    return write(tmp_path, "bulk:\n" + "".join(f"  k{i:04d}: '{'v' * size}{i}'\n" for i in range(n)))


def test_a_server_with_fewer_operations_per_transaction_is_served(cli, server, tmp_path):
    small = server("--max-txn-ops", "16")
    out = cli("--endpoints", small.endpoints, "config", "apply", "-f", document(tmp_path, 300), "--new-component",
              "-o", "json", input="")
    assert out.exit_code == 0, out.stderr
    assert len(json.loads(out.stdout)["changes"]) == 300
    assert len(small.read_prefix("/deis/bulk/")) == 300


def test_a_server_with_a_smaller_request_limit_is_served(cli, server, tmp_path):
    small = server("--max-request-bytes", str(300_000))
    out = cli("--endpoints", small.endpoints, "config", "apply", "-f", document(tmp_path, 40, 50_000),
              "--new-component", "-o", "json", input="")
    assert out.exit_code == 0, out.stderr
    assert len(small.read_prefix("/deis/bulk/")) == 40


def test_the_space_quota_mid_apply_is_a_partial_apply_that_says_what_landed(cli, server, tmp_path):
    full = server("--quota-backend-bytes", str(8 * 1024 * 1024))
    path = document(tmp_path, 400, 100_000)  # ~40 MB against an 8 MiB quota: reached part way
    out = cli("--endpoints", full.endpoints, "config", "apply", "-f", path, "--new-component", "-o", "json",
              input="")
    assert out.exit_code == 8, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: apply stopped after ")
    assert "database space exceeded" in lines[0] and "Traceback" not in out.stderr
    result = json.loads(out.stdout)
    assert result["partial"] is True and result["changed"] is True
    landed = {c["key"] for c in result["changes"]}
    stored = {key.removeprefix("/deis/") for key in full.read_prefix("/deis/bulk/")}
    assert landed == stored and 0 < len(landed) < 400  # exactly what the output says landed
    assert {c["key"] for c in result["not_written"]} == {f"bulk/k{i:04d}" for i in range(400)} - landed


def test_a_conflict_in_a_later_transaction_is_exit_8_and_a_rerun_converges(cli, etcd, tmp_path):
    from deisctl.etcd.client import Store
    from deisctl import api

    path = document(tmp_path, 400)

    def interfere(index, total):
        if index == 2:
            etcd.write("/deis/bulk/k0300", "theirs")

    client = api.Client(endpoints=etcd.endpoints,
                        stores=lambda settings, **kw: Store(settings, before_txn=interfere, **kw))
    with pytest.raises(api.PartlyApplied) as caught:
        client.apply(path, new_component=True)
    from deisctl.etcd.audit import AUDIT_OPS
    from deisctl.limits import MAX_TXN_OPS

    assert caught.value.exit_code == 8 and len(caught.value.written) == 2 * (MAX_TXN_OPS - AUDIT_OPS)
    out = cli("--endpoints", etcd.endpoints, "config", "apply", "-f", path, input="")  # run it again: converges
    assert out.exit_code == 0, out.stderr
    assert len(etcd.read_prefix("/deis/bulk/")) == 400 and etcd.read("/deis/bulk/k0300") == "v300"
