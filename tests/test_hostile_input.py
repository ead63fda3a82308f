"""Hostile input against a real etcd: documents and files are bounded and refused at once (exit 2,
nothing written): YAML bombs, devices and FIFOs, oversized values, files outside the document's
folder, certificates holding keys, parse errors that would echo content, text that is not UTF-8."""

from __future__ import annotations

import os
import time

import pytest

from tests.helpers import assert_error

CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAsecretbytes\n-----END PRIVATE KEY-----\n"


def write_at(path, text: str) -> str:
    path.write_text(text)
    return str(path)


# -- resource bounds -----------------------------------------------------------------------------

BOMB = ('a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'
        'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n'
        'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n'
        'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n')


@pytest.mark.parametrize("command", ["diff", "apply"])
def test_a_yaml_alias_bomb_is_refused_at_once(dctl, etcd, tmp_path, command):
    started = time.monotonic()
    out = dctl("config", command, "-f", write_at(tmp_path / "bomb.yaml", BOMB))
    assert_error(out, 2, "aliases")
    assert time.monotonic() - started < 5
    assert etcd.read_prefix("/") == {}


@pytest.mark.parametrize("make", ["dev_zero", "fifo", "directory"])
def test_file_values_are_regular_files_only(dctl, etcd, tmp_path, make):
    path = {"dev_zero": lambda: "/dev/zero", "directory": lambda: str(tmp_path),
            "fifo": lambda: (os.mkfifo(tmp_path / "pipe"), str(tmp_path / "pipe"))[1]}[make]()
    started = time.monotonic()
    assert_error(dctl("config", "router", "set", f"sslCert={path}"), 2, "not a regular file")
    doc = write_at(tmp_path / "s.yaml", f"router:\n  sslCert: {{file: {path}}}\n")
    assert_error(dctl("config", "apply", "-f", doc, "--allow-any-file"), 2, "not a regular file")
    assert time.monotonic() - started < 5  # a FIFO without a writer does not hang
    assert etcd.read_prefix("/") == {}


def test_oversized_values_are_refused_before_sending(dctl, etcd, tmp_path):
    big = "x" * 2_700_000
    assert_error(dctl("config", "myapp", "set", "--new-component", f"blob={big}"), 2, "too large (2700000 bytes", "1572864")
    doc = write_at(tmp_path / "big.yaml", f"myapp:\n  blob: {'y' * 20_000_000}\n")
    assert_error(dctl("config", "apply", "-f", doc), 2, "too large (20000000 bytes")
    cert = tmp_path / "huge.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n" + "A" * 2_000_000 + "\n")
    assert_error(dctl("config", "router", "set", f"sslCert={cert}"), 2, "too large")
    # each value fits, together they do not fit one transaction: refused, nothing written
    half = "z" * 900_000
    assert_error(dctl("config", "myapp", "set", "--new-component", f"a={half}", f"b={half}"), 2, "too large for one transaction")
    assert etcd.read_prefix("/") == {}


def test_apply_splits_transactions_by_size(dctl, etcd, tmp_path):
    """128 values of 100 KB fit no single 1.5 MiB request: apply writes them in several."""
    doc = write_at(tmp_path / "many.yaml", "myapp:\n" + "".join(f"  k{i:03d}: {'v' * 100_000}\n" for i in range(128)))
    out = dctl("config", "apply", "-f", doc, "--new-component")
    assert out.exit_code == 0, out.stderr
    assert len(etcd.read_prefix("/deis/myapp/")) == 128


# -- files and secrets -----------------------------------------------------------------------------

def test_file_entries_stay_in_the_documents_folder(dctl, etcd, tmp_path):
    (tmp_path / "docs").mkdir()
    outside = tmp_path / "outside.pem"
    outside.write_text(CERT)
    (tmp_path / "docs" / "inside.pem").write_text(CERT)
    (tmp_path / "docs" / "link.pem").symlink_to(outside)
    for given in (str(outside), "../outside.pem", "link.pem", "~/.ssh/id_ed25519"):
        doc = write_at(tmp_path / "docs" / "s.yaml", f"router:\n  sslCert: {{file: '{given}'}}\n")
        assert_error(dctl("config", "diff", "-f", doc), 2, "outside the document's folder", "--allow-any-file")
    doc = write_at(tmp_path / "docs" / "s.yaml", "router:\n  sslCert: {file: inside.pem}\n")
    assert dctl("config", "apply", "-f", doc).exit_code == 0
    doc = write_at(tmp_path / "docs" / "s.yaml", "router:\n  sslCert: {file: ../outside.pem}\n")
    assert dctl("config", "apply", "-f", doc, "--allow-any-file").exit_code == 0  # the hint, followed


def test_a_certificate_file_must_not_hold_the_private_key(dctl, etcd, tmp_path):
    combined = tmp_path / "combined.pem"
    combined.write_text(CERT + KEY)
    assert_error(dctl("config", "router", "set", f"sslCert={combined}"), 2, "holds a PRIVATE KEY")
    doc = write_at(tmp_path / "s.yaml", "router:\n  sslCert: {file: combined.pem}\n")
    assert_error(dctl("config", "apply", "-f", doc), 2, "holds a PRIVATE KEY")
    assert etcd.read_prefix("/") == {}


def test_export_writes_secrets_through_a_private_temp_file(dctl, etcd, tmp_path):
    etcd.write("/deis/controller/auth/ldap/bind/password", "s3cret")
    target = tmp_path / "s.yaml"
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    # The old predictable name: tests run the command in this process, so its pid is ours.
    planted = tmp_path / f"s.yaml.tmp-{os.getpid()}"
    planted.symlink_to(victim)
    out = dctl("config", "export", "--show-secrets", "-f", str(target))
    assert out.exit_code == 0, out.stderr
    assert victim.read_text() == "untouched" and planted.is_symlink()
    assert "s3cret" in target.read_text() and (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".s.yaml")] == []  # no temp file left


def test_parse_errors_show_position_and_reason_never_content(dctl, tmp_path):
    doc = write_at(tmp_path / "shadow", "root:$6$Zm9vYmFy$hashedsecret:19000:0:99999:7:::\nbin: *: x: y\n")
    out = dctl("config", "apply", "-f", doc)
    assert_error(out, 2, "is not valid YAML or JSON, line 2")
    assert "hashedsecret" not in out.stderr and "bin" not in out.stderr


# -- one line, the right code ----------------------------------------------------------------------

def test_text_that_is_not_utf8_is_refused(dctl, etcd, tmp_path):
    assert_error(dctl("config", "myapp", "set", "--new-component", "x=a\udcffb"), 2, "not UTF-8")
    doc = write_at(tmp_path / "s.json", '{"myapp": {"x": "\\ud800"}}')
    assert_error(dctl("config", "apply", "-f", doc), 2, "not UTF-8")
    (tmp_path / "bin.yaml").write_bytes(b"myapp:\n  x: a\xffb\n")
    assert_error(dctl("config", "apply", "-f", str(tmp_path / "bin.yaml")), 2, "not UTF-8")
    assert etcd.read_prefix("/") == {}


def test_an_empty_prefix_is_refused(cli, etcd):
    assert_error(cli("--endpoints", etcd.endpoints, "--prefix", "", "config", "myapp", "get"), 2, "--prefix ''")


@pytest.mark.parametrize("special", ["/dev/null", "fifo", "directory"])
def test_export_never_replaces_what_is_not_a_regular_file(dctl, etcd, tmp_path, special):
    etcd.write("/deis/myapp/a", "1")
    target = tmp_path / special
    if special == "fifo":
        os.mkfifo(target)
    elif special == "directory":
        target.mkdir()
    path = special if special.startswith("/") else str(target)
    assert_error(dctl("config", "export", "-f", path), 2, f"cannot write {path}", "not a regular file")
    if special == "/dev/null":
        assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert dctl("config", "export", "myapp").stdout.endswith("myapp:\n  a: '1'\n")  # stdout still works
