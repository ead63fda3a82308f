"""Reaching etcd: failover, timeouts, TLS and auth, against real servers."""

from __future__ import annotations

import re
import threading
import time

import pytest

from deisctl import settings as settings_mod
from deisctl.etcd.client import Store
from tests.rig.etcd import EtcdCluster
from tests.rig.fakes import HungServer
from tests.rig.ports import free_port
from tests.helpers import assert_error


@pytest.fixture
def hung_endpoint():
    """A port that accepts TCP connections and then never says a word."""
    server = HungServer()
    yield server.url
    server.close()


def test_dead_endpoint_first_in_list_fails_over(cli, etcd):
    etcd.write("/deis/controller/workers", "3")
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    out = cli("--endpoints", f"{dead},{etcd.endpoints}", "config", "controller", "get", "workers")
    assert (out.exit_code, out.stdout) == (0, "3\n"), out.stderr
    assert time.monotonic() - started < 2.0


def test_hung_endpoint_first_in_list_does_not_block_the_others(cli, etcd, hung_endpoint):
    etcd.write("/deis/controller/workers", "3")
    started = time.monotonic()
    out = cli("--endpoints", f"{hung_endpoint},{etcd.endpoints}", "config", "controller", "get", "workers")
    assert (out.exit_code, out.stdout) == (0, "3\n"), out.stderr
    assert time.monotonic() - started < 2.0


def test_a_live_endpoint_wins_after_duplicated_hung_ones(run_deisctl, etcd, hung_endpoint):
    """The same hung URL twice, then a live one: dialled once each, and the live one answers."""
    etcd.write("/deis/controller/workers", "3")
    spelled_again = hung_endpoint.replace("http://", "HTTP://") + "/"
    started = time.monotonic()
    out = run_deisctl("--endpoints", f"{hung_endpoint},{spelled_again},{etcd.endpoints}", "config", "controller",
                      "get", "workers")
    assert (out.exit_code, out.stdout, out.stderr) == (0, "3\n", "")
    assert time.monotonic() - started < 2.0


def test_all_endpoints_down_exits_4_within_the_timeouts(run_deisctl):
    dead = ",".join(f"http://127.0.0.1:{free_port()}" for _ in range(3))
    started = time.monotonic()
    out = run_deisctl("--endpoints", dead, "--dial-timeout", "1", "--command-timeout", "1",
                      "config", "controller", "get", "workers")
    elapsed = time.monotonic() - started
    assert_error(out, 4, "cannot reach etcd", "connection refused")
    assert elapsed < 1 + 1 + 1


def test_hung_endpoints_exit_4_within_the_timeouts(run_deisctl, hung_endpoint):
    started = time.monotonic()
    out = run_deisctl("--endpoints", f"{hung_endpoint},{hung_endpoint}", "--dial-timeout", "1",
                      "--command-timeout", "1", "config", "controller", "set", "workers=2")
    elapsed = time.monotonic() - started
    assert_error(out, 4, "no answer within --dial-timeout 1s")
    assert elapsed < 1 + 1 + 1


def test_member_killed_between_requests_in_one_process(cluster):
    """The library raises once after the member it used dies; the store fails over."""
    settings = settings_mod.build({"endpoints": cluster.endpoints, "dial_timeout": "2", "command_timeout": "5"}, {})
    with Store(settings) as store:
        store.put_many([("/deis/t/a", "1")])
        first = store.where
        index = [m.url for m in cluster.members].index(first)
        cluster.members[index].kill()
        store.put_many([("/deis/t/b", "2")])
        assert store.where != first
        assert store.get("/deis/t/a").value == b"1"
    assert cluster.read("/deis/t/b") == "2"


class Forwarder:
    """A `via` as a tunnel gives it: every endpoint is reached at one local address."""

    def __init__(self, address):
        self.address, self.asked, self.closed = address, [], 0

    def local_address(self, host, port):
        self.asked.append((host, port))
        return self.address

    def failure(self, host, port):
        return None

    def close(self):
        self.closed += 1


def test_store_dials_through_via_and_calls_on_close_once(etcd):
    etcd.write("/deis/t/x", "1")
    via = Forwarder(("127.0.0.1", etcd.members[0].client_port))
    settings = settings_mod.build({"endpoints": "http://etcd.invalid:2379"}, {})
    with Store(settings, via=via, on_close=via.close) as store:
        assert store.get("/deis/t/x").value == b"1"
        assert via.asked == [("etcd.invalid", 2379)]
        store.close()
    assert via.closed == 1


def test_member_killed_mid_run_loses_no_write(cluster, run_deisctl):
    """A loop of CLI writes keeps succeeding while one member of three is killed."""
    results = []

    def writer():
        for i in range(12):
            out = run_deisctl("--endpoints", cluster.endpoints, "config", "myapp", "set", "--new-component", f"n{i}={i}")
            results.append(out)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(1.0)
    cluster.members[0].kill()  # the first-listed member: the one clients prefer
    thread.join(timeout=120)
    assert [r.exit_code for r in results] == [0] * 12, [r.stderr for r in results if r.exit_code]
    stored = cluster.read_prefix("/deis/myapp/")
    assert stored == {f"/deis/myapp/n{i}": str(i) for i in range(12)}


def test_leader_killed_mid_run(cluster, cli):
    import json

    status = json.loads(cluster.etcdctl("endpoint", "status", "-w", "json").stdout)
    leader_id = status[0]["Status"]["leader"]
    leader = next(i for i, s in enumerate(status) if s["Status"]["header"]["member_id"] == leader_id)
    cluster.members[leader].kill()
    out = cli("--endpoints", cluster.endpoints, "config", "controller", "set", "workers=7")
    assert out.exit_code == 0, out.stderr
    assert cluster.read("/deis/controller/workers") == "7"


# -- TLS and auth ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_etcd(tls_files):
    with EtcdCluster(1, tls=tls_files, client_cert_auth=True, name="tls") as server:
        yield server


@pytest.fixture(scope="module")
def auth_etcd(tls_files):
    with EtcdCluster(1, tls=tls_files, name="auth") as server:
        server.enable_auth("root", "Pa55:word")
        yield server


def test_tls_with_client_certificate(cli, tls_etcd, tls_files):
    base = ["--endpoints", tls_etcd.endpoints, "--cacert", str(tls_files.ca), "--cert", str(tls_files.client_cert),
            "--key", str(tls_files.client_key)]
    out = cli(*base, "config", "controller", "set", "workers=2")
    assert out.exit_code == 0, out.stderr
    assert tls_etcd.read("/deis/controller/workers") == "2"
    env = {"DEISCTL_ENDPOINTS": tls_etcd.endpoints, "DEISCTL_CACERT": str(tls_files.ca),
           "DEISCTL_CERT": str(tls_files.client_cert), "DEISCTL_KEY": str(tls_files.client_key)}
    assert cli("config", "controller", "get", "workers", env=env).stdout == "2\n"


def test_tls_with_an_untrusted_ca_exits_5(cli, tls_etcd, tls_files):
    """A server certificate the CA does not vouch for is refused, as an unknown SSH host key is."""
    out = cli("--endpoints", tls_etcd.endpoints, "--cacert", str(tls_files.other_ca), "--cert",
              str(tls_files.client_cert), "--key", str(tls_files.client_key), "config", "controller", "get")
    assert_error(out, 5, "the server certificate is not signed by a CA in --cacert", str(tls_files.other_ca))


def test_tls_without_the_client_certificate_the_server_requires_exits_5(cli, tls_etcd, tls_files):
    out = cli("--endpoints", tls_etcd.endpoints, "--cacert", str(tls_files.ca), "config", "controller", "get")
    assert_error(out, 5, "the server requires a client certificate (--cert and --key)")


def test_plain_http_to_a_tls_server_exits_4(cli, tls_etcd):
    url = tls_etcd.endpoints.replace("https://", "http://")
    out = cli("--endpoints", url, "--dial-timeout", "1", "config", "controller", "get")
    assert_error(out, 4, "cannot reach etcd", f"{url} (a TLS server: use https:// and --cacert)")


def test_missing_ca_file_is_a_usage_error(cli, tls_etcd, tmp_path):
    out = cli("--endpoints", tls_etcd.endpoints, "--cacert", str(tmp_path / "nope.pem"), "config", "x", "get")
    assert_error(out, 2, "--cacert")


GRPC_LOG_LINE = re.compile(r"^[EWID]\d{4} ", re.M)  # gRPC C-core: "E1129 17:08:43.739463 26324 file.cc:1517] ..."


def test_bad_local_tls_files_are_named_with_exit_2_and_no_grpc_log(run_deisctl, tls_etcd, tls_files, tmp_path,
                                                                   monkeypatch):
    monkeypatch.delenv("GRPC_VERBOSITY", raising=False)  # importing deisctl.etcd here set it for this process
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello\n")
    base = ["--endpoints", tls_etcd.endpoints, "--dial-timeout", "1"]
    cases = [
        (["--cacert", str(garbage), "--cert", str(tls_files.client_cert), "--key", str(tls_files.client_key)],
         ["--cacert file", str(garbage), "no PEM certificate"]),
        (["--cacert", str(tls_files.ca), "--cert", str(tls_files.client_cert), "--key", str(tls_files.server_key)],
         ["--key file", str(tls_files.server_key), "is not the private key of the --cert file"]),
        (["--cacert", str(tls_files.ca), "--cert", str(garbage), "--key", str(tls_files.client_key)],
         ["--cert file", str(garbage), "no PEM certificate"]),
    ]
    for flags, fragments in cases:
        out = run_deisctl(*base, *flags, "config", "controller", "get")
        assert_error(out, 2, *fragments)
        assert not GRPC_LOG_LINE.search(out.stderr), out.stderr


def test_a_tls_mistake_on_one_endpoint_logs_nothing_when_another_answers(run_deisctl, tls_etcd, etcd, tls_files,
                                                                         monkeypatch):
    """gRPC's own log lines (ssl_transport_security.cc ...) are silenced: the command succeeds on
    the next endpoint, and its stderr is what deisctl says."""
    monkeypatch.delenv("GRPC_VERBOSITY", raising=False)  # importing deisctl.etcd here set it for this process
    etcd.write("/deis/controller/workers", "4")
    out = run_deisctl("--endpoints", f"{tls_etcd.endpoints},{etcd.endpoints}", "--cacert", str(tls_files.other_ca),
                      "--cert", str(tls_files.client_cert), "--key", str(tls_files.client_key),
                      "config", "controller", "get", "workers")
    assert (out.exit_code, out.stdout, out.stderr) == (0, "4\n", "")
    # A user who asks for gRPC's logs gets them.
    out = run_deisctl("--endpoints", tls_etcd.endpoints, "--cacert", str(tls_files.other_ca), "--cert",
                      str(tls_files.client_cert), "--key", str(tls_files.client_key), "config", "controller", "get",
                      env={"GRPC_VERBOSITY": "INFO"})
    assert out.exit_code == 5 and GRPC_LOG_LINE.search(out.stderr), out.stderr


def test_user_and_password_auth(cli, auth_etcd, tls_files):
    base = ["--endpoints", auth_etcd.endpoints, "--cacert", str(tls_files.ca)]
    out = cli(*base, "--user", "root:Pa55:word", "config", "controller", "set", "workers=9")
    assert out.exit_code == 0, out.stderr
    assert auth_etcd.read("/deis/controller/workers") == "9"
    # The password from the environment; never echoed.
    out = cli(*base, "--user", "root", "config", "controller", "get", "workers", env={"DEISCTL_PASSWORD": "Pa55:word"})
    assert (out.exit_code, out.stdout) == (0, "9\n")
    out = cli("config", "controller", "get", "workers",
              env={"DEISCTL_ENDPOINTS": auth_etcd.endpoints, "DEISCTL_CACERT": str(tls_files.ca),
                   "DEISCTL_USER": "root:Pa55:word"})
    assert out.stdout == "9\n"


def test_wrong_password_exits_5_without_echoing_it(cli, auth_etcd, tls_files):
    out = cli("--endpoints", auth_etcd.endpoints, "--cacert", str(tls_files.ca), "--user", "root:wrong-pw",
              "config", "controller", "get")
    assert_error(out, 5, "authentication failed")
    assert "wrong-pw" not in out.stderr


def test_no_credentials_on_an_auth_cluster_exits_5(cli, auth_etcd, tls_files):
    out = cli("--endpoints", auth_etcd.endpoints, "--cacert", str(tls_files.ca), "config", "controller", "get")
    assert_error(out, 5)


def test_user_without_password_and_without_terminal_is_a_usage_error(cli, auth_etcd, tls_files):
    out = cli("--endpoints", auth_etcd.endpoints, "--cacert", str(tls_files.ca), "--user", "root", "config", "x", "get")
    assert_error(out, 2, "DEISCTL_PASSWORD")


def test_user_over_plain_http_is_refused_before_sending(cli, etcd):
    out = cli("--endpoints", etcd.endpoints, "--user", "root:pw", "config", "controller", "get")
    assert_error(out, 2, "https")


def test_an_expired_auth_token_is_renewed_once_mid_apply(tls_files):
    """etcd's auth token expires while deisctl works (--auth-token-ttl 1 here; 5 minutes by
    default: a prune prompt, a long apply): deisctl logs in again once and goes on."""
    import time

    from deisctl import api
    from deisctl.etcd.client import Store

    with EtcdCluster(1, tls=tls_files, name="ttl", extra_args=["--auth-token-ttl", "1"]) as server:
        server.enable_auth("root", "Pa55:word")
        waits = []

        def slow(index, total):
            if index == 1:
                waits.append(index)
                time.sleep(2.5)  # longer than the token's life

        client = api.Client(endpoints=server.endpoints, cacert=str(tls_files.ca), user="root", password="Pa55:word",
                            stores=lambda settings, **kw: Store(settings, before_txn=slow, **kw))
        document = {"bulk": {f"k{i:03d}": "v" for i in range(300)}}  # three transactions
        assert len(client.apply(document, new_component=True).changes) == 300
        assert waits == [1] and len(server.read_prefix("/deis/bulk/")) == 300
