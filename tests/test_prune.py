"""apply --prune against a real etcd: what it deletes, what it keeps (published keys, secrets), when
it asks (a terminal), when it refuses (no terminal, no --yes), and guarded deletes."""

from __future__ import annotations

import os

from tests.helpers import assert_error, run_on_terminal, write
from tests.rig.cli import deisctl_command


def test_prune_keeps_published_keys_and_secrets_unless_named(dctl, etcd, tmp_path):
    for key, value in (("controller/host", "10.0.0.5"), ("controller/port", "8000"), ("controller/secretKey", "s"),
                       ("controller/builderKey", "b"), ("controller/stale", "x"), ("controller/workers", "2")):
        etcd.write(f"/deis/{key}", value)
    path = write(tmp_path, "controller:\n  workers: 2\n")
    out = dctl("config", "apply", "-f", path, "--prune", "--yes")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == ["removed  controller/stale: x", "1 removed"]
    assert "--prune keeps 4 key(s)" in out.stderr and "--delete-protected" in out.stderr
    assert set(etcd.read_prefix("/deis/")) == {f"/deis/controller/{k}" for k in
                                               ("host", "port", "secretKey", "builderKey", "workers")}
    out = dctl("config", "apply", "-f", path, "--prune", "--yes", "--delete-protected", "controller/host")  # the hint
    assert out.stdout.splitlines() == ["removed  controller/host: 10.0.0.5", "1 removed"]
    assert etcd.read("/deis/controller/host") is None and etcd.read("/deis/controller/port") == "8000"


def test_a_large_prune_is_refused_without_a_terminal_or_yes(dctl, etcd, tmp_path):
    for i in range(6):  # more than a handful
        etcd.write(f"/deis/bulk/k{i}", "v")
    etcd.write("/deis/bulk/keep", "1")
    path = write(tmp_path, "bulk:\n  keep: '1'\n")
    out = dctl("config", "apply", "-f", path, "--prune")
    assert_error(out, 2, "--prune would delete 6 key(s)", "pass --yes")
    assert len(etcd.read_prefix("/deis/bulk/")) == 7
    assert dctl("config", "apply", "-f", path, "--prune", "--dry-run").exit_code == 0  # nothing to confirm
    assert dctl("config", "apply", "-f", path, "--prune", "--yes").exit_code == 0
    assert etcd.read_prefix("/deis/bulk/") == {"/deis/bulk/keep": "1"}


def test_a_large_prune_asks_on_a_terminal(etcd, tmp_path):
    for i in range(6):
        etcd.write(f"/deis/bulk/k{i}", "v")
    path = write(tmp_path, "bulk: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    argv = [*deisctl_command(), "--endpoints", etcd.endpoints, "config", "apply", "-f", path, "--prune"]
    code, seen = run_on_terminal(argv, b"n\n", env=env)
    assert code == 2 and "removed  bulk/k0: v" in seen and "bulk would be left without any key" in seen
    assert "Delete these 6 key(s)?" in seen and "not confirmed; nothing was written" in seen
    assert len(etcd.read_prefix("/deis/bulk/")) == 6
    code, seen = run_on_terminal(argv, b"y\n", env=env)
    assert code == 0 and "6 removed" in seen
    assert etcd.read_prefix("/deis/bulk/") == {}


def test_prune_deletes_only_unnamed_keys_of_listed_components(dctl, etcd, tmp_path):
    for key in ("controller/workers", "controller/stale", "controller/auth/ldap/bind/dn", "router/bodySize",
                "controllers/x"):
        etcd.write(f"/deis/{key}", "1")
    path = write(tmp_path, "controller:\n  workers: 1\n")
    plain = dctl("config", "apply", "-f", path)
    assert (plain.exit_code, plain.stdout) == (0, "no changes\n")
    diff = dctl("config", "diff", "-f", path, "--prune")
    assert diff.exit_code == 1
    assert "\n-controller/stale: 1\n" in diff.stdout
    out = dctl("config", "apply", "-f", path, "--prune", "--yes")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == ["removed  controller/auth/ldap/bind/dn: 1", "removed  controller/stale: 1",
                                       "2 removed"]
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "1", "/deis/router/bodySize": "1",
                                          "/deis/controllers/x": "1"}


def test_empty_component_with_prune_empties_it_only_when_confirmed(dctl, etcd, tmp_path):
    etcd.write("/deis/myapp/a", "1")
    etcd.write("/deis/other/b", "2")
    path = write(tmp_path, "myapp: {}\n")
    out = dctl("config", "apply", "-f", path, "--prune")  # no terminal to ask on
    assert_error(out, 2, "--prune would delete 1 key(s) and leave myapp without any key", "pass --yes")
    assert etcd.read_prefix("/deis/") == {"/deis/myapp/a": "1", "/deis/other/b": "2"}
    out = dctl("config", "apply", "-f", path, "--prune", "--yes")  # the hint, followed
    assert out.exit_code == 0, out.stderr
    assert etcd.read_prefix("/deis/") == {"/deis/other/b": "2"}
