"""`deisctl config export|apply|diff` against real etcd; state checked with etcdctl."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest

from deisctl.api import ConflictError
from tests.helpers import assert_error, write

CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\nline2\n-----END CERTIFICATE-----\n"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def seeded(etcd):
    """A realistic tree: nested keys, multi-line and file-valued keys, secrets, awkward text."""
    values = {
        "/deis/controller/registrationEnabled": "0",
        "/deis/controller/registrationMode": "admin_only",
        "/deis/controller/webEnabled": "True",
        "/deis/controller/secretKey": "s3cr3t=with=equals",
        "/deis/controller/auth/ldap/bind/dn": "cn=admin,dc=example,dc=com",
        "/deis/controller/auth/ldap/bind/password": "p@ss: word",
        "/deis/platform/domain": "example.com",
        "/deis/platform/sshPrivateKey": base64.b64encode(PRIVATE_KEY.encode()).decode(),
        "/deis/router/sslCert": CERT,
        "/deis/router/bodySize": "1m",
        "/deis/myapp/motd": "line one\n  indented: yes\nno newline at end",
        "/deis/myapp/trailing": "two trailing newlines\n\n",
        "/deis/myapp/spaces": "  leading and trailing  ",
        "/deis/myapp/yes": "yes",
        "/deis/myapp/null": "null",
        "/deis/myapp/octal": "0777",
        "/deis/myapp/unicode": "héllo → wörld",
        "/deis/myapp/quotes": "it's \"quoted\" # not a comment",
    }
    for key, value in values.items():
        etcd.write(key, value)
    assert etcd.read_prefix("/deis/") == values
    return values



# -- export / apply round trip ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_apply_round_trip_is_lossless(dctl, etcd, seeded, tmp_path, fmt):
    # A backup restored into the cluster it came from: everything, published keys included, named.
    out = dctl("config", "export", "--show-secrets", "--include-published", "-o", fmt)
    assert out.exit_code == 0, out.stderr
    path = write(tmp_path, out.stdout, f"export.{fmt}")
    if fmt == "json":
        assert json.loads(out.stdout)["controller"]["auth/ldap/bind/dn"] == "cn=admin,dc=example,dc=com"

    etcd.wipe()
    applied = dctl("config", "apply", "-f", path, "-o", "json", "--new-component",
                   "--write-published", "controller/secretKey")
    assert applied.exit_code == 0, applied.stderr
    assert json.loads(applied.stdout)["changed"] is True
    assert etcd.read_prefix("/deis/") == seeded

    again = dctl("config", "apply", "-f", path, "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout) == {"changed": False, "changes": []}
    assert dctl("config", "diff", "-f", path).exit_code == 0


def test_export_of_some_components_and_to_a_file(dctl, etcd, seeded, tmp_path):
    target = tmp_path / "out.yaml"
    out = dctl("config", "export", "platform", "router", "-f", str(target))
    assert out.exit_code == 0, out.stderr
    assert out.stdout == ""
    text = target.read_text()
    assert "platform:" in text and "router:" in text and "controller:" not in text
    assert "sshPrivateKey: '********'" in text  # a secret (ends in Key): masked
    assert "-----BEGIN CERTIFICATE-----" in text  # stored content, as is
    assert "secrets are masked" in text


def test_masked_export_is_refused_then_kept_with_keep_masked(dctl, etcd, seeded, tmp_path):
    path = write(tmp_path, dctl("config", "export", "controller").stdout)
    etcd.write("/deis/controller/registrationMode", "enabled")
    out = dctl("config", "apply", "-f", path)
    assert_error(out, 2, "controller/auth/ldap/bind/password is masked", "--show-secrets", "nothing was written")
    assert etcd.read("/deis/controller/registrationMode") == "enabled"

    out = dctl("config", "apply", "-f", path, "--keep-masked", "--prune", "--yes")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == ["changed  controller/registrationMode: enabled → admin_only", "1 changed"]
    assert etcd.read("/deis/controller/secretKey") == "s3cr3t=with=equals"  # neither written nor pruned
    assert etcd.read("/deis/controller/auth/ldap/bind/password") == "p@ss: word"


# -- what a document means ---------------------------------------------------------------

def test_scalars_are_stored_as_written(dctl, etcd, tmp_path):
    path = write(tmp_path, "controller:\n  registrationEnabled: False\n  workers: 4\n"
                           "platform:\n  enablePlacementOptions: true\n  domain: example.com\n")
    out = dctl("config", "apply", "-f", path)
    assert out.exit_code == 0, out.stderr
    assert etcd.read_prefix("/deis/") == {
        "/deis/controller/registrationEnabled": "False", "/deis/controller/workers": "4",
        "/deis/platform/enablePlacementOptions": "true", "/deis/platform/domain": "example.com"}


def test_json_document_from_stdin(dctl, etcd):
    out = dctl("config", "apply", "-f", "-", input='{"controller": {"workers": 3, "webEnabled": "False"}}')
    assert out.exit_code == 0, out.stderr
    assert etcd.read("/deis/controller/workers") == "3"
    assert etcd.read("/deis/controller/webEnabled") == "False"


def test_file_valued_keys_take_content_or_a_file_reference(dctl, etcd, tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "router.pem").write_text(CERT)
    (tmp_path / "id_rsa").write_text(PRIVATE_KEY)
    path = write(tmp_path, "router:\n  sslCert: {file: certs/router.pem}\n"
                           "platform:\n  sshPrivateKey: {file: id_rsa}\n")
    out = dctl("config", "apply", "-f", path)
    assert out.exit_code == 0, out.stderr
    assert etcd.read_prefix("/deis/router/")["/deis/router/sslCert"] == CERT
    assert base64.b64decode(etcd.read("/deis/platform/sshPrivateKey")).decode() == PRIVATE_KEY

    # A path written as a plain string is not content: a clear error with the fix.
    bad = write(tmp_path, "router:\n  sslCert: certs/router.pem\n", "bad.yaml")
    assert_error(dctl("config", "apply", "-f", bad), 2, "router/sslCert", "{file: PATH}")


def test_whole_file_is_validated_before_anything_is_written(dctl, etcd, tmp_path):
    etcd.write("/deis/controller/workers", "2")
    path = write(tmp_path, "controller:\n  workers: 8\n  registrationEnabled: true\n"
                           "  webEnabled: maybe\nplatform:\n  domain: not a domain\n"
                           "Bad_Component:\n  x: 1\nmyapp:\n  'bad key': 1\n  nested: {a: b}\n  empty: ''\n")
    out = dctl("config", "apply", "-f", path)
    assert_error(out, 2, "7 invalid entries", "nothing was written", "controller/registrationEnabled",
                 "'true'/'false' would crash it", "controller/webEnabled")
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "2"}
    assert dctl("config", "diff", "-f", path).exit_code == 2


def test_duplicate_keys_and_non_mappings_are_refused(dctl, etcd, tmp_path):
    assert_error(dctl("config", "apply", "-f", write(tmp_path, "myapp:\n  a: 1\n  a: 2\n")), 2, "duplicate key")
    assert_error(dctl("config", "apply", "-f", write(tmp_path, "- a\n- b\n")), 2, "expected a mapping")
    assert_error(dctl("config", "apply", "-f", write(tmp_path, "a: [\n")), 2, "not valid YAML")
    assert_error(dctl("config", "apply", "-f", str(tmp_path / "missing.yaml")), 2, "cannot read")
    assert etcd.read_prefix("/deis/") == {}


def test_unknown_keys_warn_or_fail_with_strict(dctl, etcd, tmp_path):
    path = write(tmp_path, "controller:\n  registrationEnable: 0\n")
    out = dctl("config", "apply", "-f", path, "--strict")
    assert_error(out, 2, "did you mean 'registrationEnabled'")
    assert etcd.read_prefix("/deis/") == {}
    out = dctl("config", "apply", "-f", path)  # one character from a known key: a typo, refused
    assert_error(out, 2, "looks like a typo of controller/registrationEnabled", "--new-key")
    assert etcd.read_prefix("/deis/") == {}
    far = write(tmp_path, "controller:\n  registrationBanner: hello\n", "far.yaml")
    out = dctl("config", "apply", "-f", far)  # not near any known key: written, with a warning
    assert out.exit_code == 0
    assert "warning: controller/registrationBanner is not a known controller setting" in out.stderr


# -- changes, prune, dry run, output -----------------------------------------------------------

def test_apply_writes_only_what_differs_and_reports_it(dctl, etcd, tmp_path):
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/registrationMode", "enabled")
    etcd.write("/deis/controller/secretKey", "old-secret")
    before = json.loads(etcd.etcdctl("get", "/deis/controller/registrationMode", "-w", "json").stdout)
    path = write(tmp_path, "controller:\n  workers: 4\n  registrationMode: enabled\n"
                           "  secretKey: new-secret\n  webEnabled: 'True'\n")
    out = dctl("config", "apply", "-f", path, "-o", "json")
    assert out.exit_code == 0, out.stderr
    applied = json.loads(out.stdout)
    assert applied.pop("revision") > 0
    assert applied == {"changed": True, "changes": [
        {"key": "controller/webEnabled", "action": "added", "old": None, "new": "True"},
        {"key": "controller/workers", "action": "changed", "old": "2", "new": "4"},
    ], "kept": [  # published by the controller: the cluster's own value stays
        {"key": "controller/secretKey", "action": "changed", "old": "********", "new": "********"},
    ]}
    after = json.loads(etcd.etcdctl("get", "/deis/controller/registrationMode", "-w", "json").stdout)
    assert after["kvs"][0]["mod_revision"] == before["kvs"][0]["mod_revision"]  # untouched: not rewritten
    assert etcd.read("/deis/controller/secretKey") == "old-secret"
    out = dctl("config", "apply", "-f", path, "--write-published", "controller/secretKey")
    assert out.exit_code == 0 and etcd.read("/deis/controller/secretKey") == "new-secret"


def test_dry_run_writes_nothing(dctl, etcd, tmp_path):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "apply", "-f", write(tmp_path, "controller:\n  workers: 3\n"), "--dry-run")
    assert out.exit_code == 0
    assert out.stdout.splitlines() == ["changed  controller/workers: 2 → 3", "1 changed (dry run: nothing written)"]
    assert etcd.read("/deis/controller/workers") == "2"


def test_diff_text_and_exit_codes(dctl, etcd, tmp_path):
    etcd.write("/deis/myapp/motd", "hello\nworld")
    path = write(tmp_path, "myapp:\n  motd: |-\n    hello\n    there\n  new: x\n")
    out = dctl("config", "diff", "-f", path)
    assert out.exit_code == 1, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("--- etcd:/deis (revision ") and lines[1] == f"+++ {path}"
    assert lines[2:] == ["@@ -1,3 +1,4 @@", " myapp/motd: |", "   hello", "-  world", "+  there", "+myapp/new: x"]
    assert etcd.read("/deis/myapp/motd") == "hello\nworld"
    json_out = dctl("config", "diff", "-f", path, "-o", "json")
    assert json_out.exit_code == 1 and json.loads(json_out.stdout)["changed"] is True
    assert dctl("config", "apply", "-f", path).exit_code == 0
    same = dctl("config", "diff", "-f", path)
    assert (same.exit_code, same.stdout) == (0, "")


def test_diff_unreachable_is_4(cli, tmp_path):
    from tests.rig.ports import free_port

    out = cli("--endpoints", f"http://127.0.0.1:{free_port()}", "--dial-timeout", "0.5", "config", "diff", "-f",
              write(tmp_path, "myapp:\n  a: 1\n"))
    assert_error(out, 4, "cannot reach etcd")


# -- optimistic concurrency --------------------------------------------------------------------

def conflict(apply) -> str:
    """Run apply(); it must raise deisctl's conflict (exit 6): return the CLI's error line."""
    with pytest.raises(ConflictError) as caught:
        apply()
    assert caught.value.exit_code == 6
    return caught.value.render()


def test_concurrent_change_between_read_and_write_is_a_conflict(client, etcd, tmp_path):
    etcd.write("/deis/controller/workers", "2")
    calls = []

    def someone_else(index, total):
        calls.append((index, total))
        etcd.write("/deis/controller/workers", "9")  # etcdctl: another client, between read and write

    path = write(tmp_path, "controller:\n  workers: 4\n  webEnabled: 'True'\n")
    line = conflict(lambda: client(before_txn=someone_else).apply(path))
    assert "/deis/controller/workers" in line and "nothing was written" in line
    assert calls == [(0, 1)]
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "9"}


def test_concurrent_creation_of_a_key_being_added_is_a_conflict(client, etcd):
    interfering = client(before_txn=lambda i, n: etcd.write("/deis/myapp/b", "theirs"))
    line = conflict(lambda: interfering.apply({"myapp": {"a": "1", "b": "mine"}}, new_component=True))
    assert "/deis/myapp/b" in line and "nothing was written" in line
    assert etcd.read_prefix("/deis/") == {"/deis/myapp/b": "theirs"}


def test_concurrent_delete_of_a_key_being_pruned_or_changed_is_a_conflict(client, etcd):
    etcd.write("/deis/myapp/a", "1")
    etcd.write("/deis/myapp/b", "1")
    interfering = client(before_txn=lambda i, n: etcd.etcdctl("del", "/deis/myapp/a"))
    assert "/deis/myapp/a" in conflict(lambda: interfering.apply({"myapp": {"a": "2"}}, prune=True, yes=True))
    assert etcd.read_prefix("/deis/") == {"/deis/myapp/b": "1"}


# -- large change sets ----------------------------------------------------------------------------

def big_document(n: int, value: str = "v") -> str:
    return "bulk:\n" + "".join(f"  k{i:05d}: {value}{i}\n" for i in range(n))


def count_keys(etcd, prefix="/deis/bulk/") -> int:
    return len(etcd.read_prefix(prefix))


def test_a_change_set_of_1000_keys(dctl, etcd, tmp_path):
    path = write(tmp_path, big_document(1000))
    out = dctl("config", "apply", "-f", path, "-o", "json", "--new-component")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["changed"] is True and len(result["changes"]) == 1000
    assert count_keys(etcd) == 1000
    assert etcd.read("/deis/bulk/k00999") == "v999"
    again = dctl("config", "apply", "-f", path, "-o", "json")
    assert json.loads(again.stdout) == {"changed": False, "changes": []}

    # 1,000 deletes and 1,000 puts in one apply: 16 guarded transactions.
    renamed = write(tmp_path, "bulk:\n" + "".join(f"  n{i:05d}: x\n" for i in range(1000)), "renamed.yaml")
    out = dctl("config", "apply", "-f", renamed, "--prune", "--yes", "--new-key")  # n00001 is one letter from k00001
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "1000 added, 1000 removed"
    stored = etcd.read_prefix("/deis/bulk/")
    assert len(stored) == 1000 and all(k.startswith("/deis/bulk/n") for k in stored)


def test_conflict_in_a_later_transaction_reports_what_was_written(dctl, client, etcd, tmp_path):
    path = write(tmp_path, big_document(1000))

    from deisctl.etcd.audit import AUDIT_OPS
    from deisctl.limits import MAX_TXN_OPS

    per = MAX_TXN_OPS - AUDIT_OPS  # changes a transaction (the audit record takes the rest)

    def interfere(index, total):
        if index == 3:  # before the 4th of 8 transactions, a key that it writes (k00375..k00499)
            etcd.write("/deis/bulk/k00400", "theirs")

    from deisctl.api import PartlyApplied

    with pytest.raises(PartlyApplied) as caught:
        client(before_txn=interfere).apply(path, new_component=True)
    stopped = caught.value
    assert stopped.exit_code == 8 and isinstance(stopped.cause, ConflictError)
    line = stopped.render()
    assert "/deis/bulk/k00400" in line and "that transaction was not written" in line
    assert f"apply stopped after {3 * per} of 1000 changes (3 of 8 transactions were written)" in line
    assert len(stopped.result.changes) == 3 * per and len(stopped.result.not_written) == 1000 - 3 * per
    assert count_keys(etcd) == 3 * per + 1  # written by apply + the other writer's key
    # Idempotent: running it again converges (overwriting the other writer's value, as the file says).
    out = dctl("config", "apply", "-f", path)
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines()[-1] == f"{1000 - 3 * per - 1} added, 1 changed"
    assert count_keys(etcd) == 1000


def test_installed_executable_apply_json_for_ansible(run_deisctl, etcd, tmp_path):
    path = write(tmp_path, "controller:\n  registrationMode: admin_only\n")
    first = run_deisctl("--endpoints", etcd.endpoints, "config", "apply", "-f", path, "-o", "json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["changed"] is True
    second = run_deisctl("config", "apply", "-f", path, "-o", "json", env={"DEISCTL_ENDPOINTS": etcd.endpoints})
    assert json.loads(second.stdout) == {"changed": False, "changes": []}


@pytest.mark.cluster
def test_apply_on_a_cluster_with_a_dead_member(cli, cluster, tmp_path):
    cluster.members[0].kill()
    path = write(tmp_path, big_document(300))
    out = cli("--endpoints", cluster.endpoints, "config", "apply", "-f", path, "--new-component")
    assert out.exit_code == 0, out.stderr
    assert count_keys(cluster) == 300


def test_export_leaves_out_what_apply_could_not_write_back(dctl, etcd, tmp_path):
    etcd.etcdctl("put", "/deis/services/x y", "1")
    etcd.etcdctl("put", "/deis/toplevel", "1")
    etcd.etcdctl("put", "/deis/myapp/empty", "")
    etcd.write("/deis/myapp/ok", "1")
    out = dctl("config", "export")
    assert out.exit_code == 0
    assert "warning: left out 3 key(s) that apply could not write back" in out.stderr
    path = write(tmp_path, out.stdout)
    assert dctl("config", "diff", "-f", path).exit_code == 0
    assert "myapp:\n  ok: '1'\n" in out.stdout


@pytest.mark.skipif(not shutil.which("patch"), reason="patch is not installed")
def test_diff_is_a_unified_diff_that_patch_applies(dctl, etcd, tmp_path):
    etcd.write("/deis/myapp/a", "1")
    etcd.write("/deis/myapp/motd", "hello\nworld")
    etcd.write("/deis/myapp/z", "same")
    etcd.write("/deis/myapp/secretKey", "old")
    path = write(tmp_path, "myapp:\n  a: '2'\n  motd: |-\n    hello\n    there\n  z: same\n  secretKey: new\n")
    out = dctl("config", "diff", "-f", path)
    assert out.exit_code == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("--- etcd:/deis (revision ") and lines[1] == f"+++ {path}"
    assert lines[2].startswith("@@ -1,") and "old" not in out.stdout and "new\n" not in out.stdout
    assert "-myapp/secretKey: ******** (etcd)" in lines and "+myapp/secretKey: ******** (file)" in lines
    # What etcd holds, as the diff lists it: patch turns it into what the file says.
    before = tmp_path / "etcd.txt"
    before.write_text("myapp/a: 1\nmyapp/motd: |\n  hello\n  world\nmyapp/secretKey: ******** (etcd)\n"
                      "myapp/z: same\n")
    result = subprocess.run(["patch", "-s", str(before)], input=out.stdout, text=True, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert before.read_text() == ("myapp/a: 2\nmyapp/motd: |\n  hello\n  there\nmyapp/secretKey: ******** (file)\n"
                                  "myapp/z: same\n")
