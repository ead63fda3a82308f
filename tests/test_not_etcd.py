"""Pointed at something that is not an etcd v3 server, every command says what is there, in one
line, and exits 4: an etcd 2 server (what Deis v1 clusters ran, on port 4001), a web server, an
https:// URL on a plain server, an http:// URL on a TLS server."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error
from tests.rig.etcd import EtcdCluster
from tests.rig.fakes import EtcdV2Server, PlainHTTPServer


def commands(tmp_path) -> dict:
    doc = tmp_path / "doc.yaml"
    doc.write_text("controller:\n  workers: '4'\n")
    return {
        "set": ["config", "controller", "set", "workers=4"],
        "get": ["config", "controller", "get", "workers"],
        "list": ["config", "controller", "get"],
        "rm": ["config", "controller", "rm", "workers"],
        "apply": ["config", "apply", "-f", str(doc)],
        "diff": ["config", "diff", "-f", str(doc)],
        "export": ["config", "export", "controller"],
        "history": ["config", "controller", "history", "workers"],
        "rollback": ["config", "controller", "rollback", "workers", "--to-revision", "2"],
        "watch": ["config", "controller", "watch", "--timeout", "1"],
        "check": ["check"],
    }


@pytest.fixture(scope="module")
def etcd2():
    server = EtcdV2Server({"/deis/controller/workers": "3"})
    yield server
    server.close()


@pytest.fixture(scope="module")
def web():
    server = PlainHTTPServer()
    yield server
    server.close()


def test_every_command_on_an_etcd2_server_says_its_keys_are_in_the_v2_keyspace(cli, etcd2, tmp_path):
    for name, args in commands(tmp_path).items():
        out = cli("--endpoints", etcd2.url, "--dial-timeout", "1", *args)
        assert_error(out, 4, etcd2.url, "an etcd 2.3.8 server", "v2 keyspace, which deisctl does not read")
    assert etcd2.keys == {"/deis/controller/workers": "3"}  # nothing written there either
    assert all(request == "GET /version" for request in etcd2.requests)


def test_the_emulated_etcd2_answers_as_etcd_2_3_does(etcd2):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{etcd2.url}/version", timeout=2) as reply:
        assert json.loads(reply.read()) == {"etcdserver": "2.3.8", "etcdcluster": "2.3.0"}
    with urllib.request.urlopen(f"{etcd2.url}/v2/keys/deis/controller/workers", timeout=2) as reply:
        assert json.loads(reply.read())["node"]["value"] == "3" and reply.headers["X-Etcd-Index"]


def test_every_command_on_a_web_server_says_it_is_not_etcd(cli, web, tmp_path):
    for name, args in commands(tmp_path).items():
        out = cli("--endpoints", web.url, "--dial-timeout", "1", *args)
        assert_error(out, 4, web.url, "not an etcd server: an HTTP server (nginx/1.22.1) answers here")


def test_https_endpoint_on_a_plain_server(cli, etcd, tls_files, tmp_path):
    url = etcd.endpoints.replace("http://", "https://")
    for name, args in commands(tmp_path).items():
        out = cli("--endpoints", url, "--cacert", str(tls_files.ca), "--dial-timeout", "1", *args)
        assert_error(out, 4, url, "not a TLS server: etcd ", "answers plain http here (use http://)")


@pytest.fixture(scope="module")
def tls_server(tls_files):
    with EtcdCluster(1, tls=tls_files, name="tlsonly") as server:
        yield server


def test_http_endpoint_on_a_tls_server(cli, tls_server, tmp_path):
    url = tls_server.endpoints.replace("https://", "http://")
    for name, args in commands(tmp_path).items():
        out = cli("--endpoints", url, "--dial-timeout", "1", *args)
        assert_error(out, 4, url, "a TLS server: use https:// and --cacert")


def test_a_live_member_listed_after_an_etcd2_server_is_used(cli, etcd2, etcd):
    etcd.write("/deis/controller/workers", "7")
    out = cli("--endpoints", f"{etcd2.url},{etcd.endpoints}", "config", "controller", "get", "workers")
    assert (out.exit_code, out.stdout, out.stderr) == (0, "7\n", "")
