"""Hardening, round three (issue 25): each reproducer of the attacks that got through, kept as an
acceptance check against the real thing (etcd, sshd, the controller), as a hostile etcd writer, a
hostile node and another local user would try them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import assert_error, node_flags, run_on_terminal
from tests.rig.cli import deisctl_command

# What a hostile writer puts in a key name or a node in its output: an OSC that sets the terminal's
# title, a cursor movement, a forged second error line, and Unicode's right-to-left override and
# line separator (they reorder or break what the operator reads).
HOSTILE = "\x1b]0;pwned\x07\x1b[2A\nerror: users: all done\u202eenod lla\u2028x"
ESCAPED = "\\x1b]0;pwned\\x07\\x1b[2A\\nerror: users: all done\\u202eenod lla\\u2028x"


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}


def assert_shown_escaped(stream: str) -> None:
    """No control, bidi or separator character reached the stream; each line is one message."""
    assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream and "\u2028" not in stream
    assert "error: users: all done" not in stream.splitlines()


# -- 9. every byte from etcd, a node or a controller escaped on stderr too ----------------------


@pytest.mark.parametrize("command", ["export", "edit"])
def test_a_hostile_key_name_in_a_warning_is_escaped(dctl, etcd, tmp_path, command):
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/" + HOSTILE, "v")  # a key apply could not write back
    if command == "export":
        out = dctl("config", "export", "controller")
    else:
        editor = tmp_path / "editor"
        editor.write_text("#!/bin/sh\nexit 0\n")  # saves as it was: nothing to write
        editor.chmod(0o755)
        out = dctl("config", "controller", "edit", env={"EDITOR": str(editor), "VISUAL": ""})
    assert out.exit_code == 0, out.stderr
    assert_shown_escaped(out.stderr)
    warning = next(line for line in out.stderr.splitlines() if "could not write back" in line)
    assert ESCAPED in warning


def test_a_nodes_error_line_is_escaped_in_the_error(cli, sshd_server, tmp_path):
    hostile = tmp_path / "hostile-python"  # stands in for a node whose command fails with a crafted line
    hostile.write_text(f"#!{sys.executable}\nimport sys\n"
                       "sys.stderr.write('\\x1b]0;pwned\\x07\\x1b[2A\\u202eusers: all done\\n')\nsys.exit(1)\n")
    hostile.chmod(0o755)
    out = cli("users", *node_flags(sshd_server), "--runtime", "none", "--app-dir", str(tmp_path),
              "--python", str(hostile), "list")
    assert_error(out, 1, "remote command failed (exit 1): \\x1b]0;pwned\\x07\\x1b[2A\\u202eusers: all done")
    assert_shown_escaped(out.stderr)


@pytest.mark.parametrize("spew", ["stdout", "stderr"])
def test_a_node_that_prints_without_end_is_cut_off_not_read_into_memory(sshd_server, tmp_path, spew):
    """A node whose command prints an endless line (stdout) or 600 MB of noise (stderr): deisctl
    stops reading at its bound (stdout) or keeps only the end (stderr), instead of filling memory
    until the remote timeout. Its peak memory, measured by a parent that runs only it, says so."""
    hostile = tmp_path / "spewing-python"
    hostile.write_text("#!/bin/sh\n" + ("exec cat /dev/zero\n" if spew == "stdout" else
                                        "head -c 600000000 /dev/zero >&2; printf '\\nthe last line\\n' >&2; exit 3\n"))
    hostile.chmod(0o755)
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
               "sys.stderr.write('peak %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "sys.exit(done.returncode)")
    proc = subprocess.run([sys.executable, "-c", measure, *deisctl_command(), "users", *node_flags(sshd_server),
                           "--runtime", "none", "--app-dir", str(tmp_path), "--python", str(hostile),
                           "--remote-timeout", "240", "list"], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, env=clean_env())
    said, peak = proc.stderr.rsplit("peak ", 1)
    peak_mib = int(peak) / 1024
    if spew == "stdout":
        assert (proc.returncode, said) == (1, f"error: ssh {sshd_server.user}@{sshd_server.host}:{sshd_server.port}: "
                                              "the remote command printed a line of more than 256 MiB; deisctl "
                                              "stopped reading it\n"), said
        assert peak_mib < 700, peak_mib
    else:
        assert proc.returncode == 1 and said.endswith("remote command failed (exit 3): the last line\n"), said
        assert peak_mib < 200, peak_mib


def test_values_with_unicode_controls_are_escaped_in_text_output(dctl, etcd):
    """On a terminal `get KEY` shows the value escaped; into a pipe (`$(...)`) it stays exact."""
    value = "safe\u202eevil\u2028next\u200bzw\x1b[2J"
    etcd.write("/deis/controller/note", value)
    listing = dctl("config", "controller", "get")
    assert "note=safe\\u202eevil\\u2028next\\u200bzw\\x1b[2J\n" in listing.stdout
    assert dctl("config", "controller", "get", "note").stdout == value + "\n"  # a pipe: the exact bytes
    code, printed = run_on_terminal([*deisctl_command(), "--endpoints", etcd.endpoints, "config", "controller", "get",
                                     "note"], env=clean_env(), answers=[(b"", b"")])
    assert code == 0 and "safe\\u202eevil\\u2028next\\u200bzw\\x1b[2J" in printed, printed
    assert "\u202e" not in printed and "\x1b" not in printed
    exact = dctl("-o", "json", "config", "controller", "get", "note")
    assert json.loads(exact.stdout) == {"note": value}  # JSON stays exact


def test_the_error_line_of_a_usage_error_escapes_argv(dctl):
    out = dctl("config", "controller", "get", "bad\x1b[2Jkey")
    assert out.exit_code == 2 and "\x1b" not in out.stderr and "\\x1b[2J" in out.stderr


def test_the_python_api_renders_errors_escaped_too(etcd):
    from deisctl import api

    etcd.write("/deis/controller/" + HOSTILE, "v")
    client = api.Client(endpoints=[etcd.endpoints])
    with pytest.raises(api.DeisctlError) as caught:
        client.get("controller", ["nope" + HOSTILE[:8]])
    assert "\x1b" not in caught.value.render()


# -- 8. one masking rule for every view ----------------------------------------------------------


@pytest.mark.parametrize("key", ["secrets/db", "token/value", "credentials/aws"])
def test_history_masks_as_get_does(dctl, etcd, key):
    """A key is secret when any segment of its path says so: history, get, watch and rollback alike."""
    etcd.write(f"/deis/myapp/{key}", "s3cret-one")
    etcd.write(f"/deis/myapp/{key}", "s3cret-two")
    for output in ("text", "json", "yaml"):
        shown = dctl("-o", output, "config", "myapp", "history", key)
        assert shown.exit_code == 0, shown.stderr
        assert "s3cret" not in shown.stdout and "********" in shown.stdout, shown.stdout
        listed = dctl("-o", output, "config", "myapp", "get")
        assert "s3cret" not in listed.stdout and "********" in listed.stdout
    revealed = dctl("config", "myapp", "history", key, "--show-secrets")
    assert "s3cret-one" in revealed.stdout and "s3cret-two" in revealed.stdout


# -- 5. a delete that did not happen is not recorded ----------------------------------------------


def audit_records(etcd) -> list:
    raw = etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--print-value-only").stdout
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def test_rm_ignore_missing_records_only_what_it_deleted(dctl, etcd):
    etcd.write("/deis/controller/workers", "4")
    before = len(audit_records(etcd))
    for _ in range(3):  # the collection's state: absent calls it on every run
        out = dctl("config", "controller", "rm", "--ignore-missing", "noSuchKey")
        assert (out.exit_code, out.stdout) == (0, ""), out.stderr
    assert len(audit_records(etcd)) == before
    out = dctl("config", "controller", "rm", "--ignore-missing", "noSuchKey", "workers")
    assert (out.exit_code, out.stdout) == (0, "workers\n"), out.stderr
    records = audit_records(etcd)
    assert len(records) == before + 1
    assert records[-1]["changes"] == [{"component": "controller", "key": "workers", "action": "delete"}]
    assert etcd.read_prefix("/deis/controller/") == {}


# -- 6. no value in the recorded command, whatever the key looks like -----------------------------


def test_a_key_beginning_with_a_dash_keeps_its_value_out_of_the_record(dctl, etcd):
    out = dctl("config", "myapp", "set", "--new-component", "--", "-password=hunter2-secret", "--x=also-secret",
               "plain=v3")
    assert out.exit_code == 0, out.stderr
    assert etcd.read_prefix("/deis/myapp/")["/deis/myapp/-password"] == "hunter2-secret"
    command = audit_records(etcd)[-1]["command"]
    assert "hunter2" not in command and "also-secret" not in command and "v3" not in command
    assert command.endswith("set --new-component -- -password=... --x=... plain=..."), command


# -- 12. --if-revision covers deletes ----------------------------------------------------------------


def test_if_revision_refuses_a_key_deleted_after_it(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    read = dctl("-o", "json", "config", "controller", "set", "workers=3")
    revision = json.loads(read.stdout)[0]["revision"]
    etcd.etcdctl("del", "/deis/controller/workers")  # another client deletes it after that revision

    out = dctl("config", "controller", "set", "--if-revision", str(revision), "workers=9")
    assert_error(out, 6, f"changed after revision {revision}: /deis/controller/workers (deleted); nothing was written")
    assert etcd.read_prefix("/deis/controller/") == {}
    etcd.write("/deis/controller/workers", "5")  # created after it: refused as well
    assert_error(dctl("config", "controller", "set", "--if-revision", str(revision), "workers=9"), 6,
                 "changed after revision")
    assert etcd.read_prefix("/deis/controller/") == {"/deis/controller/workers": "5"}
    now = json.loads(dctl("-o", "json", "config", "controller", "set", "workers=6").stdout)[0]["revision"]
    ok = dctl("config", "controller", "set", "--if-revision", str(now), "workers=7", "registrationMode=admin_only")
    assert ok.exit_code == 0, ok.stderr  # an absent key that stayed absent is no change


# -- 7. an interrupt while the record of a committed change is being written says so -----------------


def test_an_interrupt_while_etcd_takes_the_record_says_the_change_was_made(sshd_server, controller_container):
    """The controller committed the promote; deisctl then waits for etcd (here: a port that never
    answers) to take its audit record, and is sent SIGTERM: exit 130 and the line that says the
    user was promoted and the record may or may not have been written."""
    import signal
    import time

    from tests.helpers import new_users
    from tests.rig.fakes import HungServer

    (bob,) = new_users(1)
    controller_container.seed(bob)
    hung = HungServer()
    env = dict(clean_env(), DEISCTL_ENDPOINTS=hung.url, DEISCTL_DIAL_TIMEOUT="30")
    script = ("import json\nfrom django.contrib.auth.models import User\n"
              f"print(json.dumps(User.objects.get(username={bob!r}).is_superuser))\n")
    try:
        proc = subprocess.Popen([*deisctl_command(), "users", *node_flags(sshd_server), "promote", bob],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                                text=True)
        deadline = time.monotonic() + 60
        while not json.loads(controller_container.shell(script).stdout):  # committed on the controller
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        hung.close()
    assert (proc.returncode, out) == (130, ""), err
    assert err == (f"error: interrupted after the controller on 127.0.0.1 had committed promote (changed {bob}): its "
                   "audit record may or may not have been written (see deisctl audit controller)\n")


# -- 1-4. the audit trail against a hostile writer ---------------------------------------------------

TRAIL = "/deisctl-audit/deis/"


def set_workers(dctl, *values: int) -> None:
    for value in values:
        out = dctl("config", "controller", "set", f"workers={value}")
        assert out.exit_code == 0, out.stderr


def stored(etcd, key: str) -> str:
    return etcd.etcdctl("get", key, "--print-value-only").stdout.rstrip("\n")


def test_a_record_is_never_overwritten_and_a_deleted_head_stops_writes_until_repaired(dctl, etcd):
    """1. The head deleted: the next write would have been record 1 again, over the record there.
    It is refused instead (nothing written), naming the way out; the repair's hint followed
    literally rebuilds the head from the records, records itself, and writes go on."""
    set_workers(dctl, 1, 2, 3)
    first = stored(etcd, TRAIL + f"records/{1:016d}")
    etcd.etcdctl("del", TRAIL + "head")

    out = dctl("config", "controller", "set", "workers=4")
    assert_error(out, 1, f"the audit trail under {TRAIL} is damaged: its head says it ends at record 0 (the head "
                 "is missing), but record 1 exists (a record is never overwritten); nothing was written")
    assert stored(etcd, TRAIL + f"records/{1:016d}") == first
    assert etcd.read_prefix("/deis/controller/") == {"/deis/controller/workers": "3"}
    assert_error(dctl("audit", "verify"), 1, "records after 0 were added outside deisctl (the head is behind them)")
    hint = out.stderr.split("(", 1)[1]
    assert "'deisctl audit verify'" in hint and "'deisctl audit repair'" in hint
    repaired = dctl("audit", "repair")  # as the hint says
    assert repaired.stdout == ("audit trail head rebuilt from the records (it was missing or damaged); the repair "
                               "is record 4\n"), repaired.stderr
    set_workers(dctl, 4)
    assert dctl("audit", "verify").exit_code == 0
    rows = json.loads(dctl("-o", "json", "audit").stdout)
    assert [row["seq"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[3]["changes"] == [{"component": "deisctl-audit", "key": "head", "action": "repaired (was missing)"}]


@pytest.mark.parametrize("damage", ["not json", "a list", "no seq"])
def test_a_damaged_head_is_named_by_verify_and_stops_writes_with_the_way_out(dctl, etcd, damage):
    """4. A malformed head: verify, audit and every write say what is wrong instead of a traceback."""
    set_workers(dctl, 1, 2)
    etcd.write(TRAIL + "head", {"not json": "{oops", "a list": "[1, 2]", "no seq": '{"hash": "x", "first": 1, '
                                                                                  '"anchor": ""}'}[damage])
    verified = dctl("audit", "verify")
    assert_error(verified, 1, "the audit trail is broken: the head is damaged (")
    listing = dctl("audit")
    assert listing.exit_code == 0 and "warning: the audit trail's head is damaged" in listing.stderr
    out = dctl("config", "controller", "set", "workers=3")
    assert_error(out, 1, f"the audit trail's head at {TRAIL}head is damaged (", "nothing was written",
                 "deisctl audit repair")
    assert "Traceback" not in out.stderr + verified.stderr + listing.stderr
    assert etcd.read_prefix("/deis/controller/") == {"/deis/controller/workers": "2"}
    assert dctl("audit", "repair").exit_code == 0
    set_workers(dctl, 3)
    assert dctl("audit", "verify").exit_code == 0


@pytest.mark.parametrize("damage", ["not json", "a list", "no changes"])
def test_a_damaged_record_is_named_and_listed_as_damaged(dctl, etcd, damage):
    set_workers(dctl, 1, 2, 3)
    etcd.write(TRAIL + f"records/{2:016d}", {"not json": "{oops", "a list": "[]",
                                             "no changes": '{"seq": 2, "prev": "x", "time": "t", "count": 1}'}[damage])
    assert_error(dctl("audit", "verify"), 1, "the audit trail is broken: record 2 is damaged (")
    listing = dctl("audit")
    assert listing.exit_code == 0 and "damaged:" in listing.stdout, listing.stderr
    assert dctl("audit", "controller").exit_code == 0  # a filter passes over it
    history = dctl("config", "controller", "history", "workers")
    assert history.exit_code == 0, history.stderr
    set_workers(dctl, 4)  # writes go on: the head is whole (verify keeps naming the damage)
    repair = dctl("audit", "repair")
    assert_error(repair, 1, "the audit records under /deisctl-audit/deis/ are broken themselves (record 2 is "
                 "damaged")


def test_verify_against_this_machines_anchor_and_an_expected_head(dctl, etcd):
    """2. What a chain inside etcd cannot see, anchors outside it do: the newest records deleted
    and the head rewritten; a record edited with every hash after it recomputed; the whole trail
    deleted. Each is caught by this machine's anchor, and by the head a CI job kept."""
    from deisctl.etcd.audit import digest, encode

    set_workers(dctl, 1, 2, 3, 4)
    verified = dctl("audit", "verify")
    head = verified.stdout.splitlines()[1].split()[1]  # "head SEQ:HASH": what a CI job keeps
    assert head.startswith("4:") and verified.exit_code == 0

    def forge(keep_upto: int, edit: bool) -> None:
        """Rewrite the trail as a writer of etcd can: records 1..keep_upto, record 2's user
        changed (with edit), every later hash recomputed, a head that fits."""
        rows = [json.loads(stored(etcd, TRAIL + f"records/{n:016d}")) for n in range(1, keep_upto + 1)]
        etcd.etcdctl("del", TRAIL, "--prefix")
        prev = ""
        for row in rows:
            row["prev"] = prev
            if edit and row["seq"] == 2:
                row["user"] = "alice"
            raw = encode(row)
            etcd.write(TRAIL + f"records/{row['seq']:016d}", raw.decode())
            prev = digest(raw)
        if rows:
            etcd.write(TRAIL + "head", json.dumps({"seq": rows[-1]["seq"], "hash": prev, "first": 1, "anchor": "",
                                                   "first_time": rows[0]["time"]}))

    snapshot = {n: stored(etcd, TRAIL + f"records/{n:016d}") for n in range(1, 5)}
    for keep_upto, edit, problem in ((2, False, "the trail ends at record 2, but this machine saw"),
                                     (4, True, "record 4 is not the one this machine saw"),
                                     (0, False, "the trail ends at record 0, but this machine saw")):
        forge(keep_upto, edit)
        alone = dctl("audit", "verify", env={"DEISCTL_AUDIT_ANCHORS": "off"})
        assert alone.exit_code == 0  # the chain inside etcd is whole: it alone cannot tell
        assert_error(dctl("audit", "verify"), 1, problem)
        given = dctl("audit", "verify", "--expect-head", head, env={"DEISCTL_AUDIT_ANCHORS": "off"})
        assert_error(given, 1, "--expect-head names")
        etcd.etcdctl("del", TRAIL, "--prefix")  # back to the genuine trail
        for n in range(1, 5):
            etcd.write(TRAIL + f"records/{n:016d}", snapshot[n])
        etcd.write(TRAIL + "head", json.dumps({"seq": 4, "hash": head.split(":")[1], "first": 1, "anchor": "",
                                               "first_time": json.loads(snapshot[1])["time"]}))
    assert dctl("audit", "verify", "--expect-head", head).exit_code == 0
    assert_error(dctl("audit", "verify", "--expect-head", "4:nothex"), 2, "--expect-head takes SEQ:HASH")


def test_retention_is_the_clusters_not_the_writers_environment(dctl, etcd):
    """3. A writer's DEISCTL_AUDIT_KEEP / DEISCTL_AUDIT_MAX_AGE trims nothing: the policy stored
    with the trail decides, set by whoever administers it (and recorded)."""
    import time

    set_workers(dctl, 1, 2, 3)
    time.sleep(0.2)
    hostile = {"DEISCTL_AUDIT_KEEP": "1", "DEISCTL_AUDIT_MAX_AGE": "0.000001"}
    out = dctl("config", "controller", "set", "workers=4", env=hostile)
    assert out.exit_code == 0, out.stderr
    assert [row["seq"] for row in json.loads(dctl("-o", "json", "audit").stdout)] == [1, 2, 3, 4]
    history = dctl("config", "controller", "history", "workers").stdout.splitlines()[-4:]  # (earlier tests' first)
    assert not any("not written by deisctl" in line for line in history), history
    shown = dctl("audit", "policy")
    assert shown.stdout == "keep: 10000 records; max age: 365 days (deisctl's default (the cluster has none))\n"
    assert dctl("audit", "policy", "--keep", "all", "--max-age", "30").stdout == \
        "keep: all records; max age: 30 days (the cluster's)\n"
    assert json.loads(stored(etcd, TRAIL + "policy")) == {"keep": None, "max_age_days": 30.0}
    assert json.loads(dctl("-o", "json", "audit").stdout)[-1]["changes"] == [
        {"component": "deisctl-audit", "key": "policy", "action": "set keep=all max_age_days=30.0"}]
    assert_error(dctl("audit", "--keep", "3"), 2, "--keep goes with 'deisctl audit policy'")


# -- 14. a diagnosis that does not depend on the machine's speed ---------------------------------------


def test_plain_http_to_a_tls_server_that_wants_client_certificates_is_named_at_any_speed(cli, tls_files):
    """A TLS server refusing a handshake without a client certificate sends its alert before or
    after the handshake ends depending on timing (TLS 1.3): on a busy machine deisctl saw it first
    and said "connection closed by the server". A server that always sends it first shows that an
    alert, too, means a TLS server."""
    from tests.rig.fakes import ClientCertTLSServer

    server = ClientCertTLSServer(tls_files)
    try:
        out = cli("--endpoints", server.url, "--dial-timeout", "1", "config", "controller", "get")
    finally:
        server.close()
    assert_error(out, 4, f"cannot reach etcd: {server.url} (a TLS server: use https:// and --cacert)")


# -- 15. right after a quorum is lost, check says it as every other command does ----------------------


@pytest.mark.cluster
def test_check_right_after_a_lost_quorum_exits_4_as_get_does(cli):
    """Two of three members gone: for an election timeout the survivor still names the old leader,
    so the leader row passes, and the settings read times out. That is the outage (exit 4), not a
    failed check (1). The election timeout is long here, so that the moment lasts for the test."""
    import time

    from tests.rig.etcd import EtcdCluster

    slow = EtcdCluster(3, name="slowvote", extra_args=["--heartbeat-interval", "300", "--election-timeout", "6000"])
    slow.start(deadline=60)
    try:
        slow.write("/deis/platform/domain", "example.com")
        leader = slow.leader()
        survivor = next(i for i in range(3) if i != leader)
        for index, member in enumerate(slow.members):
            if index != survivor:
                member.kill()
        started = time.monotonic()
        base = ["--endpoints", slow.members[survivor].url, "--dial-timeout", "1", "--command-timeout", "1"]
        out = cli(*base, "-o", "json", "check")
        get = cli(*base, "config", "platform", "get", "domain")
        assert time.monotonic() - started < 5.5, "the survivor's election timeout passed: the test saw nothing"
    finally:
        slow.stop()
    rows = {row["check"]: row for row in json.loads(out.stdout)}
    assert rows["cluster leader"]["ok"], rows  # the survivor still names the old leader
    assert get.exit_code == 4, get.stderr
    assert_error(out, 4, "cannot reach etcd: ")
    assert not rows["setting platform/domain"]["ok"]
