"""`backup`, `backup verify`, `restore` against real etcd clusters, the rig's controllers and real
files, through the installed CLI: no terminal, stdin closed unless a passphrase is piped."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import zipfile

import pytest

from tests.helpers import assert_error, hint_of, new_users, node_flags
from tests.rig.cli import deisctl_command
from tests.rig.etcd import EtcdCluster

PASSPHRASE = "correct horse battery staple"


class Outcome:
    def __init__(self, proc):
        self.exit_code, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def deis(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), DEISCTL_CONFIG=str(tmp_path / "none.yaml"))

    def run(*args, input=None, extra_env=None, cwd=None):
        proc = subprocess.run([*deisctl_command(), *args], capture_output=True, text=True,
                              env={**env, **(extra_env or {})}, timeout=300, cwd=cwd,
                              **({"input": input} if input is not None else {"stdin": subprocess.DEVNULL}))
        return Outcome(proc)

    return run


@pytest.fixture
def second():
    """An empty cluster to restore into."""
    with EtcdCluster(1, name="restored") as cluster:
        yield cluster


def populate(etcd):
    etcd.write("/deis/controller/registrationMode", "admin_only")
    etcd.write("/deis/controller/secretKey", "django-s3cret")
    etcd.write("/deis/platform/domain", "example.com")
    etcd.write("/deis/router/sslKey", "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n")
    etcd.etcdctl("put", "/deis/custom/multi", "line one\nline two\n")
    lease = etcd.etcdctl("lease", "grant", "300").stdout.split()[1]
    etcd.etcdctl("put", f"--lease={lease}", "/deis/controller/host", "10.0.0.1")
    etcd.etcdctl("put", f"--lease={lease}", "/deis/controller/port", "8000")
    etcd.etcdctl("put", f"--lease={lease}", "/deis/router/hosts/10.0.0.1/host", "10.0.0.1")
    # bytes that are not UTF-8, in a key and in a value (written with the library: etcdctl takes text)
    import etcd3

    host, port = etcd.endpoints.split("://")[1].split(",")[0].rsplit(":", 1)
    raw = etcd3.client(host=host, port=int(port), timeout=10)
    raw.put(b"/deis/custom/bin\xff", b"\x00\xfe\xffvalue")
    raw.close()


def keys_of(etcd, prefix="/deis/") -> dict:
    data = json.loads(etcd.etcdctl("get", prefix, "--prefix", "-w", "json").stdout)
    return {base64.b64decode(kv["key"]): base64.b64decode(kv.get("value", "")) for kv in data.get("kvs", [])}


def test_round_trip_into_an_empty_cluster_byte_for_byte(deis, etcd, second, tmp_path):
    populate(etcd)
    assert deis("--endpoints", etcd.endpoints, "config", "controller", "set", "workers=4").exit_code == 0
    archive = tmp_path / "deis.zip"
    made = deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive), "-o", "json")
    assert made.exit_code == 0, made.stderr
    assert (archive.stat().st_mode & 0o777) == 0o600
    counts = json.loads(made.stdout)["counts"]
    assert counts == {"keys": len(keys_of(etcd)), "audit": 2}
    verified = deis("backup", "verify", str(archive))
    assert verified.exit_code == 0 and verified.stdout.startswith("backup whole: "), verified.stderr

    dry = deis("--endpoints", second.endpoints, "restore", str(archive), "--dry-run")
    assert dry.exit_code == 0 and "secretKey: ********" in dry.stdout and "django-s3cret" not in dry.stdout
    assert "MIIEvQ" not in dry.stdout and keys_of(second) == {}
    done = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes")
    assert done.exit_code == 0, done.stderr
    heartbeats = {b"/deis/controller/host", b"/deis/controller/port", b"/deis/router/hosts/10.0.0.1/host"}
    before = keys_of(etcd)
    assert keys_of(second) == {k: v for k, v in before.items() if k not in heartbeats}  # byte for byte
    assert "left out 3 heartbeat key(s)" in done.stdout
    # the old trail beside the new one's, never in its chain; the restore itself recorded
    imported = second.etcdctl("get", "/deisctl-audit-imported/", "--prefix", "--keys-only").stdout.split()
    assert len(imported) == 2 and all("/deisctl-audit/deis/" in key for key in imported)
    assert deis("--endpoints", second.endpoints, "audit", "verify").exit_code == 0
    restored = json.loads(deis("--endpoints", second.endpoints, "-o", "json", "audit").stdout)
    assert [row["seq"] for row in restored] == [1] and "restore" in restored[0]["command"]
    again = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes")  # nothing left to write
    assert again.exit_code == 0 and again.stdout.splitlines()[0] == "no changes", again.stdout
    everything = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes", "--include-published")
    assert everything.exit_code == 0 and keys_of(second)[b"/deis/controller/host"] == b"10.0.0.1"


def test_restore_keeps_the_other_clusters_heartbeats(deis, etcd, second, tmp_path):
    populate(etcd)
    archive = tmp_path / "deis.zip"
    assert deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive)).exit_code == 0
    second.write("/deis/controller/host", "192.168.7.7")  # this cluster's own controller
    second.write("/deis/router/hosts/192.168.7.7/host", "192.168.7.7")
    assert deis("--endpoints", second.endpoints, "restore", str(archive), "--yes").exit_code == 0
    assert second.read("/deis/controller/host") == "192.168.7.7"
    assert second.read("/deis/router/hosts/192.168.7.7/host") == "192.168.7.7"
    assert second.read("/deis/router/hosts/10.0.0.1/host") is None


def test_a_concurrent_writer_during_restore_means_nothing_written(etcd, second, tmp_path):
    from deisctl import api
    from deisctl.etcd.client import Store

    populate(etcd)
    archive = tmp_path / "deis.zip"
    api.Client(endpoints=etcd.endpoints).backup(str(archive))

    def meanwhile(index, total):
        second.write("/deis/platform/domain", "someone-else.example.com")

    client = api.Client(endpoints=second.endpoints,
                        stores=lambda settings, **kw: Store(settings, before_txn=meanwhile, **kw))
    with pytest.raises(api.ConflictError) as caught:
        client.restore(str(archive))
    assert caught.value.exit_code == 6 and "nothing was written" in caught.value.message
    assert keys_of(second) == {b"/deis/platform/domain": b"someone-else.example.com"}
    plan = api.Client(endpoints=second.endpoints).restore(str(archive), dry_run=True)  # shown, then someone writes
    second.write("/deis/platform/domain", "third.example.com")
    with pytest.raises(api.ConflictError):
        api.Client(endpoints=second.endpoints).restore(str(archive), not_after=plan.read_at)


def test_a_writer_between_restores_transactions_stops_it_saying_exactly_what_landed(deis, etcd, second, tmp_path):
    """More keys than one transaction holds: the range guard is on the first transaction only
    (docs of txn.guarded_write), the later ones by their own keys. A key of the second batch
    created meanwhile stops the restore with exit 8 and the first batch's keys named as landed."""
    from deisctl.limits import MAX_TXN_OPS

    keys = [f"/deis/bulk/k{i:04d}" for i in range(MAX_TXN_OPS + 20)]
    import etcd3

    host, port = etcd.endpoints.split("://")[1].split(",")[0].rsplit(":", 1)
    raw = etcd3.client(host=host, port=int(port), timeout=10)
    for key in keys:
        raw.put(key, "v")
    raw.close()
    archive = tmp_path / "bulk.zip"
    assert deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive)).exit_code == 0
    from deisctl import api
    from deisctl.etcd.client import Store

    def meanwhile(index, total):
        if index == 1:
            second.write(keys[-1], "someone else")

    client = api.Client(endpoints=second.endpoints,
                        stores=lambda settings, **kw: Store(settings, before_txn=meanwhile, **kw))
    with pytest.raises(api.PartlyApplied) as caught:
        client.restore(str(archive))
    landed = sorted(c.full_key.decode() if isinstance(c.full_key, bytes) else c.full_key
                    for c in caught.value.result.changes)
    assert caught.value.exit_code == 8
    assert 0 < len(landed) < len(keys) - 1 and landed == keys[:len(landed)]  # the first transaction, whole
    stored = keys_of(second)
    assert stored.pop(keys[-1].encode()) == b"someone else"
    assert sorted(k.decode() for k in stored) == landed  # what it says landed is what is there


def test_a_backup_under_writes_is_one_revision(deis, etcd, tmp_path):
    for n in range(300):
        etcd.write(f"/deis/load/k{n:04d}", "0")
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            etcd.write(f"/deis/load/k{n % 300:04d}", str(n))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        archive = tmp_path / "under-writes.zip"
        made = deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive), "-o", "json")
    finally:
        stop.set()
        thread.join()
    assert made.exit_code == 0, made.stderr
    revision = json.loads(made.stdout)["revision"]
    at = json.loads(etcd.etcdctl("get", "/deis/load/", "--prefix", "-w", "json", f"--rev={revision}").stdout)
    expected = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]) for kv in at["kvs"]}
    with zipfile.ZipFile(archive) as zipped:
        lines = [json.loads(line) for line in zipped.read("keys.jsonl").splitlines()]
    got = {entry["k"]: base64.b64decode(entry["v"]) for entry in lines if entry["k"].startswith("/deis/load/")}
    assert got == expected


@pytest.mark.parametrize("damage", ["truncated", "edited", "foreign", "not a zip"])
def test_a_damaged_archive_is_caught_and_nothing_written(deis, etcd, second, tmp_path, damage):
    populate(etcd)
    archive = tmp_path / "deis.zip"
    assert deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive)).exit_code == 0
    data = archive.read_bytes()
    if damage == "truncated":
        archive.write_bytes(data[:len(data) // 2])
    elif damage == "edited":  # a value changed and the member rewritten (its CRC fits; the manifest's sha256 not)
        with zipfile.ZipFile(archive) as zipped:
            members = {name: zipped.read(name) for name in zipped.namelist()}
        members["keys.jsonl"] = members["keys.jsonl"].replace(base64.b64encode(b"example.com"),
                                                              base64.b64encode(b"evil.example"))
        with zipfile.ZipFile(archive, "w") as zipped:
            for name, content in members.items():
                zipped.writestr(name, content)
    elif damage == "foreign":
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("manifest.json", json.dumps({"format": "something-else/3"}))
    else:
        archive.write_text("hello\n")
    checked = deis("backup", "verify", str(archive))
    assert_error(checked, 1, str(archive))
    out = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes")
    assert out.exit_code == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert keys_of(second) == {}


def test_encrypted_secrets_and_a_wrong_passphrase(deis, etcd, second, tmp_path):
    populate(etcd)
    archive = tmp_path / "sealed.zip"
    made = deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive), "--encrypt", "--passphrase-stdin",
                input=PASSPHRASE + "\n")
    assert made.exit_code == 0 and "(secrets encrypted)" in made.stdout, made.stderr
    with zipfile.ZipFile(archive) as zipped:
        stored = zipped.read("keys.jsonl")
    assert base64.b64encode(b"django-s3cret") not in stored and b"MIIEvQ" not in stored  # sealed
    assert base64.b64encode(b"example.com") in stored  # what is not secret stays readable
    wrong = deis("backup", "verify", str(archive), "--passphrase-stdin", input="not it\n")
    assert_error(wrong, 1, "does not decrypt")
    out = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes", "--passphrase-stdin",
               input="not it\n")
    assert out.exit_code == 1 and keys_of(second) == {}
    none = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes")
    assert_error(none, 2, "a passphrase of the backup is needed, and there is no terminal to ask on")
    assert "DEISCTL_BACKUP_PASSPHRASE" in hint_of(none)
    good = deis("--endpoints", second.endpoints, "restore", str(archive), "--yes",
                extra_env={"DEISCTL_BACKUP_PASSPHRASE": PASSPHRASE})  # the hint, followed
    assert good.exit_code == 0, good.stderr
    assert second.read("/deis/controller/secretKey") == "django-s3cret"


def test_unattended_refusals(deis, etcd, second, tmp_path):
    archive = tmp_path / "deis.zip"
    assert_error(deis("--endpoints", etcd.endpoints, "backup"), 2, "name the archive to write with -f FILE")
    assert_error(deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive), "--encrypt"), 2,
                 "a passphrase of the backup is needed")
    assert not archive.exists()
    assert deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive)).exit_code == 0
    out = deis("--endpoints", second.endpoints, "restore", str(archive))
    assert_error(out, 2, "confirm with --yes (no terminal to ask on)")
    assert keys_of(second) == {}
    assert_error(deis("--endpoints", second.endpoints, "restore", str(archive), "--only", "users"), 2,
                 "unknown section 'users'")
    assert_error(deis("--endpoints", etcd.endpoints, "backup", "-f", str(tmp_path)), 2,
                 "not a regular file")


def test_a_dash_is_not_taken_for_a_stream_nor_silently_for_a_file_and_the_way_to_name_one_works(deis, etcd, tmp_path):
    """`-f -` used to write a file named `-` in the working directory, saying "to -"."""
    work = tmp_path / "work"
    work.mkdir()
    populate(etcd)
    for args, stream in ((("backup", "-f", "-"), "standard output"), (("backup", "verify", "-"), "standard input"),
                         (("restore", "-", "--yes"), "standard input"), (("restore", "-", "--dry-run"), "standard input")):
        out = deis("--endpoints", etcd.endpoints, *args, cwd=work)
        assert_error(out, 2, f"an archive is a file, not {stream}: name it (./- for a file named '-')")
        assert os.listdir(work) == []
    # the message's way, as written: ./- is a file named '-'
    assert deis("--endpoints", etcd.endpoints, "backup", "-f", "./-", cwd=work).exit_code == 0
    assert os.listdir(work) == ["-"]
    assert deis("backup", "verify", "./-", cwd=work).exit_code == 0


def test_a_disk_that_fills_leaves_nothing_under_the_final_name(deis, etcd, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    for n in range(200):
        etcd.write(f"/deis/big/k{n:03d}", os.urandom(3000).hex())
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)], check=True)
    try:
        out = deis("--endpoints", etcd.endpoints, "backup", "-f", str(small / "deis.zip"))
        left = os.listdir(small)
    finally:
        subprocess.run(["umount", str(small)], check=True)
    assert_error(out, 2, "cannot write", "No space left on device", "nothing was written")
    assert left == []


def test_the_controllers_data_round_trip_on_every_generation(deis, etcd, controller_rig, tmp_path):
    """Users, tokens and apps dumped by the controller itself (Python 2.7 / Django 1.6 as well as
    today's); after they are deleted, a restore of the controller section brings them back in one
    transaction: their tokens get 200 again."""
    sshd, controller = controller_rig.sshd, controller_rig.controller
    ann, ben = new_users(2, "bk")
    tokens = controller.seed(ann, ben)
    archive = tmp_path / "with-controller.zip"
    node = node_flags(sshd)
    made = deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive), "--controller", *node, "--encrypt",
                "--passphrase-stdin", input=PASSPHRASE + "\n", extra_env={"DEISCTL_AUDIT": "on"})
    assert made.exit_code == 0, made.stderr
    with zipfile.ZipFile(archive) as zipped:
        assert tokens[ann].encode() not in zipped.read("controller.json")  # sealed whole
    gone = deis("users", *node, "delete", ann, ben, "--yes", extra_env={"DEISCTL_ENDPOINTS": etcd.endpoints})
    assert gone.exit_code == 0, gone.stderr
    assert controller.check_token(tokens[ann]) == 401
    dry = deis("--endpoints", etcd.endpoints, "restore", str(archive), "--only", "controller", "--dry-run", *node,
               "--passphrase-stdin", input=PASSPHRASE + "\n")
    assert dry.exit_code == 0 and "controller: " in dry.stdout, dry.stderr
    assert controller.check_token(tokens[ann]) == 401
    done = deis("--endpoints", etcd.endpoints, "restore", str(archive), "--only", "controller", "--yes", *node,
                "--passphrase-stdin", input=PASSPHRASE + "\n")
    assert done.exit_code == 0, done.stderr
    assert (controller.check_token(tokens[ann]), controller.check_token(tokens[ben])) == (200, 200)


def test_the_backup_module_writes_and_verifies_in_check_mode_and_for_real(playbook, etcd, tmp_path):
    populate(etcd)
    archive = tmp_path / "from-ansible.zip"
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    write = [{"deis.deisctl.backup": {"path": str(archive), "passphrase": PASSPHRASE}}]
    checked = playbook(write, clusters, "--check")
    assert checked.recap["one"]["changed"] == 1 and not archive.exists(), checked.out[-3000:]
    done = playbook(write, clusters, "-vvv")
    assert done.recap["one"]["changed"] == 1 and archive.exists(), done.out[-3000:]
    assert PASSPHRASE not in done.out
    verify = [{"deis.deisctl.backup": {"path": str(archive), "state": "verified", "passphrase": PASSPHRASE}}]
    good = playbook(verify, clusters, "-v")
    assert (good.recap["one"]["changed"], good.recap["one"]["failed"]) == (0, 0), good.out[-3000:]
    archive.write_bytes(archive.read_bytes()[:-200])
    bad = playbook(verify, clusters, "-v")
    failed = bad.results("fatal")["one"]
    assert failed["rc"] == 1 and "not a deisctl backup, or it was truncated" in failed["msg"], failed


@pytest.mark.cluster
def test_a_backup_of_the_three_member_cluster_restores_into_a_single_one(deis, cluster, second, tmp_path):
    populate(cluster)
    archive = tmp_path / "three.zip"
    made = deis("--endpoints", cluster.endpoints, "backup", "-f", str(archive))
    assert made.exit_code == 0, made.stderr
    assert deis("--endpoints", second.endpoints, "restore", str(archive), "--yes").exit_code == 0
    heartbeats = {b"/deis/controller/host", b"/deis/controller/port", b"/deis/router/hosts/10.0.0.1/host"}
    assert keys_of(second) == {k: v for k, v in keys_of(cluster).items() if k not in heartbeats}


def test_the_readmes_recovery_walk_through_as_it_is(etcd, second, controller_container, sshd_server, tmp_path):
    """Each `$ deisctl ...` line of the README's walk-through, run by sh as written, in a folder
    that holds passphrase.txt; DEISCTL_ENDPOINTS names the old cluster for step 1, the new one after."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("<!-- walk-through -->", 1)[1].split("<!-- end walk-through -->", 1)[0]
    etcd.write("/deis/controller/registrationMode", "admin_only")
    (tmp_path / "passphrase.txt").write_text(PASSPHRASE + "\n")
    bin_dir = os.path.dirname(deisctl_command()[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", XDG_STATE_HOME=str(tmp_path / "state"),
               DEISCTL_CONFIG=str(tmp_path / "none.yaml"), DEISCTL_ENDPOINTS=etcd.endpoints,
               DEISCTL_HOST=sshd_server.host, DEISCTL_SSH_PORT=str(sshd_server.port),
               DEISCTL_SSH_USER=sshd_server.user, DEISCTL_SSH_KEY=sshd_server.client_key,
               DEISCTL_KNOWN_HOSTS=sshd_server.known_hosts)
    ran = []
    for line in block.splitlines():
        if line.startswith("# 2."):
            env["DEISCTL_ENDPOINTS"] = second.endpoints
        if not line.startswith("$ deisctl "):
            continue
        command = re.sub(r"\s+#.*$", "", line[2:])
        done = subprocess.run(["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        ran.append((command, done.stdout))
    assert len(ran) == 6
    assert ran[-1][1] == "admin_only\n"  # the settings are back, in the new cluster
    assert second.read("/deis/controller/registrationMode") == "admin_only"


def test_progress_shows_on_a_terminal_and_nowhere_else(deis, etcd, tmp_path):
    """Long work says how far it is on a terminal (a line rewritten in place on stderr), and
    prints nothing of it to a pipe or a file: the same for backup and for a large apply."""
    import re

    from tests.helpers import run_on_terminal

    populate(etcd)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), DEISCTL_CONFIG=str(tmp_path / "none.yaml"))
    code, printed = run_on_terminal([*deisctl_command(), "--endpoints", etcd.endpoints, "backup", "-f",
                                     str(tmp_path / "tty.zip")], env=env, prompt=b"")
    assert code == 0 and re.search(r"\rbackup: \d+ keys", printed), printed
    piped = deis("--endpoints", etcd.endpoints, "backup", "-f", str(tmp_path / "pipe.zip"))
    assert piped.exit_code == 0 and "backup:" not in piped.stderr and "\r" not in piped.stderr

    document = tmp_path / "big.yaml"
    document.write_text("bulk:\n" + "".join(f"  k{i}: v{i}\n" for i in range(600)))
    code, printed = run_on_terminal([*deisctl_command(), "--endpoints", etcd.endpoints, "config", "apply", "-f",
                                     str(document), "--new-component"], env=env, prompt=b"")
    assert code == 0 and re.search(r"\rapplying: \d+/\d+ transactions \(\d+/600 changes\)", printed), printed
    document.write_text("bulk:\n" + "".join(f"  k{i}: w{i}\n" for i in range(600)))
    piped = deis("--endpoints", etcd.endpoints, "config", "apply", "-f", str(document))
    assert piped.exit_code == 0 and "applying:" not in piped.stderr, piped.stderr


def test_an_archive_of_another_prefix_is_refused_and_the_hint_works_as_written(deis, etcd, second, tmp_path):
    populate(etcd)
    archive = tmp_path / "deis.zip"
    assert deis("--endpoints", etcd.endpoints, "backup", "-f", str(archive)).exit_code == 0
    out = deis("--endpoints", second.endpoints, "--prefix", "/elsewhere", "restore", str(archive), "--yes")
    assert_error(out, 2, f"{archive} is a backup of the prefix '/deis', not '/elsewhere'")
    hint = hint_of(out)
    assert hint == "pass --prefix /deis before the command: deisctl --prefix ... restore ...", hint
    given = hint.split()[1:3]  # --prefix /deis, where the hint says it goes
    again = deis("--endpoints", second.endpoints, *given, "restore", str(archive), "--yes")
    assert again.exit_code == 0, again.stderr
    assert second.read("/deis/platform/domain") == "example.com" and keys_of(second, "/elsewhere/") == {}
