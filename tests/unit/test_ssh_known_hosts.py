"""known_hosts matching (plain, [host]:port, hashed, wildcard, negated, @revoked) and the
host-key policy: known accepted, unknown refused or recorded, changed and revoked refused."""

from __future__ import annotations

import base64
import hashlib
import os

import paramiko
import pytest

from deisctl.errors import AuthError
from deisctl.ssh.known_hosts import KnownHosts, fingerprint, known_hosts_name, preferred_key_types, verify_host_key
from deisctl.ssh.options import Naming


@pytest.fixture(scope="module")
def keys():
    return paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()


def line(name: str, key) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def known(tmp_path, text: str) -> KnownHosts:
    path = tmp_path / "known_hosts"
    path.write_text(text)
    return KnownHosts(str(path))


def test_names_as_openssh_writes_them():
    assert known_hosts_name("node1", 22) == "node1"
    assert known_hosts_name("127.0.0.1", 2222) == "[127.0.0.1]:2222"


def test_fingerprint_is_openssh_sha256(keys):
    key = keys[0]
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    assert fingerprint(key) == "SHA256:" + digest


@pytest.mark.parametrize("pattern, name, hit", [
    ("node1", "node1", True),
    ("node1", "node2", False),
    ("NODE1", "node1", True),  # names are compared in lowercase
    ("node1,node2", "node2", True),
    ("[127.0.0.1]:2222", "[127.0.0.1]:2222", True),
    ("[127.0.0.1]:2222", "127.0.0.1", False),  # '[' is literal, not a character class
    ("*.internal", "node.internal", True),
    ("*.internal", "node.example", False),
    ("node?", "node7", True),
    ("node?", "node17", False),
    ("*.internal,!bad.internal", "bad.internal", False),  # a negated match wins
    ("*.internal,!bad.internal", "ok.internal", True),
])
def test_patterns(tmp_path, keys, pattern, name, hit):
    hosts = known(tmp_path, line(pattern, keys[0]))
    assert bool(hosts.entries_for(name)) is hit


def test_hashed_names(tmp_path, keys):
    hashed = paramiko.HostKeys.hash_host("[node.internal]:2200")
    hosts = known(tmp_path, line(hashed, keys[0]))
    assert [e.key.asbytes() for e in hosts.entries_for("[node.internal]:2200")] == [keys[0].asbytes()]
    assert hosts.entries_for("node.internal") == []


def test_comments_broken_lines_and_cert_authority_are_skipped(tmp_path, keys):
    text = ("# a comment\n\nnode1 ssh-nosuchtype AAAA\nnode1 garbage\n@cert-authority node1 " + line("", keys[1])[1:]
            + line("node1", keys[0]))
    entries = known(tmp_path, text).entries_for("node1")
    assert [(e.lineno, e.revoked) for e in entries] == [(6, False)]


def test_missing_files_are_empty_and_the_extra_files_are_read(tmp_path, keys):
    extra = tmp_path / "global"
    extra.write_text(line("node1", keys[0]))
    hosts = KnownHosts(str(tmp_path / "absent"), (str(extra),))
    assert [e.path for e in hosts.entries_for("node1")] == [str(extra)]


def test_known_key_is_accepted_silently(tmp_path, keys):
    notes = []
    verify_host_key(known(tmp_path, line("node1", keys[0])), "node1", 22, keys[0], "yes", notes.append)
    assert notes == []


def test_unknown_key_is_refused_with_fingerprint_and_hint(tmp_path, keys):
    hosts = known(tmp_path, "")
    with pytest.raises(AuthError) as err:
        verify_host_key(hosts, "node1", 2222, keys[0], "yes", print)
    assert "[node1]:2222 is not known" in err.value.message and fingerprint(keys[0]) in err.value.message
    assert "--strict-host-key-checking accept-new" in err.value.hint
    assert err.value.exit_code == 5


def test_accept_new_records_the_key_0600_and_says_so(tmp_path, keys):
    path = tmp_path / "new" / "known_hosts"
    hosts = KnownHosts(str(path))
    notes = []
    verify_host_key(hosts, "node1", 2222, keys[0], "accept-new", notes.append)
    assert path.read_text() == line("[node1]:2222", keys[0])
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(notes) == 1 and notes[0].startswith("warning: permanently added [node1]:2222")
    verify_host_key(hosts, "node1", 2222, keys[0], "yes", notes.append)  # now known
    assert len(notes) == 1


def test_accept_new_appends_after_a_last_line_without_newline(tmp_path, keys):
    path = tmp_path / "known_hosts"
    path.write_text(line("other", keys[1]).rstrip("\n"))
    verify_host_key(KnownHosts(str(path)), "node1", 22, keys[0], "accept-new", lambda _: None)
    assert path.read_text().splitlines() == [line("other", keys[1]).strip(), line("node1", keys[0]).strip()]


@pytest.mark.parametrize("policy", ["yes", "accept-new"])
def test_changed_key_is_always_refused(tmp_path, keys, policy):
    hosts = known(tmp_path, line("node1", keys[1]))
    before = (tmp_path / "known_hosts").read_text()
    with pytest.raises(AuthError) as err:
        verify_host_key(hosts, "node1", 22, keys[0], policy, print)
    assert "HAS CHANGED" in err.value.message and fingerprint(keys[0]) in err.value.message
    assert "ssh-keygen -R 'node1'" in err.value.hint
    assert (tmp_path / "known_hosts").read_text() == before


def test_revoked_key_is_refused_even_if_also_listed(tmp_path, keys):
    hosts = known(tmp_path, "@revoked * " + line("", keys[0])[1:] + line("node1", keys[0]))
    with pytest.raises(AuthError, match="@revoked"):
        verify_host_key(hosts, "node1", 22, keys[0], "accept-new", print)


def test_preferred_key_types_put_the_known_type_first(tmp_path, keys):
    entries = known(tmp_path, line("node1", keys[0])).entries_for("node1")
    offered = ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512")
    assert preferred_key_types(entries, offered) == ["ecdsa-sha2-nistp256", "ssh-ed25519", "rsa-sha2-512"]
    assert preferred_key_types([], offered) == list(offered)


def test_unknown_key_hint_names_what_works_in_the_command(tmp_path, keys):
    """config's bastion login takes no SSH flag: its hint names the variable; dock's says where its flag goes."""
    hosts = known(tmp_path, "")
    for naming, advice in ((Naming(flags=False), "rerun with DEISCTL_STRICT_HOST_KEY_CHECKING=accept-new to"),
                           (Naming(where="before COMPONENT"),
                            "rerun with --strict-host-key-checking accept-new before COMPONENT to")):
        with pytest.raises(AuthError) as err:
            verify_host_key(hosts, "node1", 22, keys[0], "yes", print, naming)
        assert advice in err.value.hint
