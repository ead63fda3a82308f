"""`deisctl config COMPONENT set|get|rm` against a real single-node etcd.

Every write is checked with etcdctl, not only read back through deisctl.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess

import pytest

from tests.helpers import assert_error
from tests.rig.cli import deisctl_command


def test_set_then_get_round_trip(dctl, etcd):
    out = dctl("config", "controller", "set", "registrationEnabled=0")
    assert out.exit_code == 0, out.stderr
    assert out.stdout == "registrationEnabled=0\n"
    assert etcd.read("/deis/controller/registrationEnabled") == "0"

    got = dctl("config", "controller", "get", "registrationEnabled")
    assert (got.exit_code, got.stdout, got.stderr) == (0, "0\n", "")


def test_value_is_split_at_the_first_equals_sign(dctl, etcd):
    assert dctl("config", "myapp", "set", "--new-component", "a=b=c", "dsn=postgres://u:p@h/db?x=1").exit_code == 0
    assert etcd.read("/deis/myapp/a") == "b=c"
    assert etcd.read("/deis/myapp/dsn") == "postgres://u:p@h/db?x=1"


def test_get_prints_values_in_the_order_asked(dctl, etcd):
    etcd.write("/deis/controller/workers", "4")
    etcd.write("/deis/controller/unitHostname", "server")
    out = dctl("config", "controller", "get", "workers", "unitHostname")
    assert out.stdout == "4\nserver\n"
    out = dctl("config", "controller", "get", "unitHostname", "workers")
    assert out.stdout == "server\n4\n"


def test_multiline_value_round_trip(dctl, etcd):
    value = "line one\nline two\n  indented"
    assert dctl("config", "myapp", "set", "--new-component", f"motd={value}").exit_code == 0
    assert etcd.read("/deis/myapp/motd") == value
    assert dctl("config", "myapp", "get", "motd").stdout == value + "\n"


def test_nested_keys_and_listing(dctl, etcd):
    out = dctl("config", "controller", "set", "auth/ldap/bind/dn=cn=admin,dc=example,dc=com",
               "auth/ldap/endpoint=ldap://ldap.example.com", "registrationMode=admin_only")
    assert out.exit_code == 0, out.stderr
    assert etcd.read("/deis/controller/auth/ldap/bind/dn") == "cn=admin,dc=example,dc=com"
    # Keys of a sibling whose name starts the same must not show up.
    etcd.write("/deis/controllers/intruder", "x")
    etcd.write("/deis/controller-extra/intruder", "x")
    listing = dctl("config", "controller", "get")
    assert listing.exit_code == 0
    assert listing.stdout.splitlines() == [
        "auth/ldap/bind/dn=cn=admin,dc=example,dc=com",
        "auth/ldap/endpoint=ldap://ldap.example.com",
        "registrationMode=admin_only",
    ]


def test_listing_an_empty_component_says_so_on_stderr(dctl):
    out = dctl("config", "controller", "get")
    assert (out.exit_code, out.stdout) == (0, "")
    assert "no keys under /deis/controller/" in out.stderr


def test_listing_an_unknown_component_without_keys_is_not_found(dctl, etcd):
    out = dctl("config", "controllers", "get")  # a typo: neither in the schema nor in etcd
    assert_error(out, 3, "no keys under /deis/controllers/", "did you mean 'controller'?")
    assert out.stdout == ""
    etcd.write("/deis/myaddon/a", "1")  # an unknown component that has keys is listed
    assert dctl("config", "myaddon", "get").stdout == "a=1\n"


def test_set_is_atomic_when_one_pair_is_invalid(dctl, etcd):
    out = dctl("config", "controller", "set", "workers=4", "registrationEnabled=true", "webEnabled=1")
    assert_error(out, 2, "registrationEnabled", "Python source")
    assert out.stdout == ""
    assert etcd.read_prefix("/deis/") == {}


def test_set_writes_all_pairs_in_one_revision(dctl, etcd):
    assert dctl("config", "controller", "set", "workers=4", "webEnabled=1", "unitHostname=server").exit_code == 0
    import json

    kvs = json.loads(etcd.etcdctl("get", "/deis/controller/", "--prefix", "-w", "json").stdout)["kvs"]
    assert len(kvs) == 3 and len({kv["mod_revision"] for kv in kvs}) == 1


def test_transaction_limit_is_enforced_before_writing(dctl, etcd):
    """etcd's 128 operations a transaction, less what the audit record takes (one transaction: all or nothing)."""
    from deisctl.etcd.audit import AUDIT_OPS
    from deisctl.limits import MAX_TXN_OPS

    fit = MAX_TXN_OPS - AUDIT_OPS
    pairs = [f"k{i}=v" for i in range(fit + 1)]
    out = dctl("config", "myapp", "set", "--new-component", *pairs)
    assert_error(out, 2, f"{fit + 1} keys in one command; at most {fit} fit in one etcd transaction")
    assert etcd.read_prefix("/deis/") == {}
    assert dctl("config", "myapp", "set", "--new-component", *pairs[:fit]).exit_code == 0
    assert len(etcd.read_prefix("/deis/myapp/")) == fit
    unaudited = [f"k{i}=w" for i in range(MAX_TXN_OPS)]  # without the record, etcd's whole limit
    assert dctl("config", "myapp", "set", *unaudited, env={"DEISCTL_AUDIT": "off"}).exit_code == 0


@pytest.mark.parametrize(
    "pair, fragment",
    [
        ("registrationEnabled=true", "Python source"),
        ("registrationEnabled=yes", "must be one of 0, 1, True, False"),
        ("webEnabled=false", "Python source"),
        ("registrationMode=open", "enabled, disabled, admin_only"),
        ("unitHostname=host", "default, application, server"),
        ("workers=0", "positive integer"),
        ("workers=-2", "positive integer"),
        ("workers=two", "positive integer"),
        ("port=70000", "port"),
        ("protocol=ftp", "http, https"),
    ],
)
def test_controller_validators_reject(dctl, etcd, pair, fragment):
    out = dctl("config", "controller", "set", pair)
    assert_error(out, 2, fragment)
    assert etcd.read_prefix("/deis/") == {}


@pytest.mark.parametrize(
    "component, pair",
    [
        ("controller", "registrationEnabled=0"),
        ("controller", "registrationEnabled=1"),
        ("controller", "registrationEnabled=True"),
        ("controller", "registrationEnabled=False"),
        ("controller", "webEnabled=True"),
        ("controller", "registrationMode=disabled"),
        ("controller", "unitHostname=application"),
        ("controller", "workers=8"),
        ("platform", "enablePlacementOptions=true"),
        ("platform", "domain=deis.example.com"),
        ("platform", "domain=local3.deisapp.com."),
    ],
)
def test_validators_accept(dctl, etcd, component, pair):
    out = dctl("config", component, "set", pair)
    assert out.exit_code == 0, out.stderr
    key, value = pair.split("=", 1)
    assert etcd.read(f"/deis/{component}/{key}") == value


@pytest.mark.parametrize("pair", ["enablePlacementOptions=yes", "enablePlacementOptions=1", "domain=localhost",
                                  "domain=bad_domain.com", "domain=-x.example.com", "domain=a..b"])
def test_platform_validators_reject(dctl, etcd, pair):
    assert_error(dctl("config", "platform", "set", pair), 2, "platform/")
    assert etcd.read_prefix("/deis/") == {}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["config", "Controller", "set", "a=1"], "invalid component"),
        (["config", "-x", "set", "a=1"], "no such option: -x (see 'deisctl config --help')"),
        (["config", "controller", "set", "noequals"], "expected KEY=VALUE"),
        (["config", "controller", "set", "=value"], "empty key"),
        (["config", "controller", "set", "workers="], "empty value"),
        (["config", "myapp", "set", "--new-component", "a//b=1"], "empty"),
        (["config", "myapp", "set", "--new-component", "a/../b=1"], "'..'"),
        (["config", "myapp", "set", "--new-component", "./b=1"], "'.'"),
        (["config", "myapp", "set", "--new-component", "/abs=1"], "empty"),
        (["config", "myapp", "set", "--new-component", "has space=1"], "segment"),
        (["config", "myapp", "set", "--new-component", "tab\tkey=1"], "segment"),
        (["config", "myapp", "set", "--new-component", "ctl\x01=1"], "segment"),
        (["config", "myapp", "set", "--new-component", "a=1", "a=2"], "given twice"),
        (["config", "myapp", "get", "bad key"], "segment"),
        (["config", "myapp", "rm", "a/../b"], "'..'"),
        (["config", "myapp", "frobnicate"], "unknown command 'frobnicate'"),
        (["--output", "xml", "config", "myapp", "get"], "unknown output format"),
        (["--prefix", "deis", "config", "myapp", "get"], "--prefix"),
        (["--dial-timeout", "0", "config", "myapp", "get"], "--dial-timeout"),
        (["--endpoints", "ftp://127.0.0.1:1", "config", "myapp", "get"], "invalid etcd endpoint"),
        (["--cert", "/tmp/x.crt", "config", "myapp", "get"], "--cert and --key"),
    ],
)
def test_bad_usage_exits_2_with_one_line(cli, etcd, args, fragment):
    out = cli(*args) if args[0].startswith("--") and args[0] != "--prefix" else cli("--endpoints", etcd.endpoints, *args)
    assert_error(out, 2, fragment)
    assert out.stdout == ""
    assert etcd.read_prefix("/") == {}


def test_unknown_key_of_known_component_warns_with_suggestion(dctl, etcd):
    out = dctl("config", "controller", "set", "registrationBanner=hello")  # not a near miss of a known key
    assert out.exit_code == 0
    assert "did you mean 'registration" in out.stderr and out.stderr.startswith("warning: ")
    assert etcd.read("/deis/controller/registrationBanner") == "hello"
    out = dctl("config", "controller", "set", "registrationEnable=0", "--new-key")  # a near miss, on purpose
    assert out.exit_code == 0 and "did you mean 'registrationEnabled'?" in out.stderr
    assert etcd.read("/deis/controller/registrationEnable") == "0"


def test_strict_refuses_unknown_keys_and_writes_nothing(dctl, etcd):
    out = dctl("config", "controller", "set", "--strict", "workers=2", "registrationEnable=0")
    assert_error(out, 2, "did you mean 'registrationEnabled'")
    assert etcd.read_prefix("/deis/") == {}


def test_a_new_component_takes_any_valid_key_silently(dctl, etcd):
    out = dctl("config", "my-addon", "set", "--new-component", "feature/flag=on")
    assert (out.exit_code, out.stderr) == (0, "")
    assert etcd.read("/deis/my-addon/feature/flag") == "on"


PEM_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
PEM_RSA = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
PEM_DH = "-----BEGIN DH PARAMETERS-----\nMIIBCAKCAQEA\n-----END DH PARAMETERS-----\n"


def test_ssh_private_key_is_read_from_a_file_and_stored_base64(dctl, etcd, tmp_path):
    path = tmp_path / "id_deis"
    path.write_text(PEM_KEY)
    out = dctl("config", "platform", "set", f"sshPrivateKey={path}")
    assert out.exit_code == 0, out.stderr
    assert out.stdout == "sshPrivateKey=********\n"
    assert PEM_KEY not in out.stdout + out.stderr
    stored = etcd.read("/deis/platform/sshPrivateKey")
    assert base64.b64decode(stored).decode() == PEM_KEY


def test_file_paths_expand_the_home_directory(dctl, etcd, tmp_path, monkeypatch):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "cert.pem").write_text(PEM_CERT)
    (tmp_path / "certs" / "key.pem").write_text(PEM_RSA)
    (tmp_path / "certs" / "dh.pem").write_text(PEM_DH)
    monkeypatch.setenv("HOME", str(tmp_path))
    out = dctl("config", "router", "set", "sslCert=~/certs/cert.pem", "sslKey=~/certs/key.pem",
               "sslDhparam=~/certs/dh.pem")
    assert out.exit_code == 0, out.stderr
    assert etcd.read("/deis/router/sslCert") == PEM_CERT
    assert etcd.read_prefix("/deis/router/")["/deis/router/sslKey"] == PEM_RSA
    assert etcd.read_prefix("/deis/router/")["/deis/router/sslDhparam"] == PEM_DH
    assert "sslKey=********" in out.stdout and "BEGIN RSA" not in out.stdout


@pytest.mark.parametrize(
    "pair, fragment",
    [
        ("sslCert=/nonexistent/cert.pem", "cannot read file"),
        ("sslCert={empty}", "is empty"),
        ("sslCert={key}", "not a PEM certificate"),
        ("sslKey={cert}", "not a PEM private key"),
        ("sslDhparam={cert}", "not a PEM dh parameters"),
    ],
)
def test_bad_files_are_rejected_and_nothing_is_written(dctl, etcd, tmp_path, pair, fragment):
    (tmp_path / "empty").write_text("")
    (tmp_path / "key").write_text(PEM_RSA)
    (tmp_path / "cert").write_text(PEM_CERT)
    pair = pair.format(empty=tmp_path / "empty", key=tmp_path / "key", cert=tmp_path / "cert")
    out = dctl("config", "router", "set", "bodySize=2m", pair)
    assert_error(out, 2, fragment)
    assert "MII" not in out.stderr  # no file content in the message
    assert etcd.read_prefix("/deis/") == {}


def test_secrets_are_masked_in_set_and_listing_but_get_prints_them(dctl, etcd):
    out = dctl("config", "controller", "set", "secretKey=hunter2", "auth/ldap/bind/password=pw1",
               "apiToken=tok", "workers=2")
    assert out.exit_code == 0
    assert "hunter2" not in out.stdout and "pw1" not in out.stdout and "tok\n" not in out.stdout
    assert "secretKey=********" in out.stdout and "workers=2" in out.stdout
    listing = dctl("config", "controller", "get")
    assert "hunter2" not in listing.stdout and "auth/ldap/bind/password=********" in listing.stdout
    assert "hunter2" in dctl("config", "controller", "get", "--show-secrets").stdout
    assert dctl("config", "controller", "get", "secretKey").stdout == "hunter2\n"
    shown = dctl("config", "controller", "set", "--show-secrets", "secretKey=hunter3")
    assert shown.stdout == "secretKey=hunter3\n"
    as_json = dctl("-o", "json", "config", "controller", "set", "secretKey=hunter4")
    assert "hunter" not in as_json.stdout


def test_secret_values_never_appear_in_validation_errors(dctl, tmp_path):
    out = dctl("config", "router", "set", f"sslKey={tmp_path}/missing")
    assert out.exit_code == 2


def test_missing_key_exits_3_naming_the_full_key(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "controller", "get", "workers", "registrationEnabled")
    assert_error(out, 3, "/deis/controller/registrationEnabled")
    assert out.stdout == ""


def test_rm_deletes_atomically_and_refuses_missing_keys(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/webEnabled", "1")
    out = dctl("config", "controller", "rm", "workers", "unitHostname")
    assert_error(out, 3, "/deis/controller/unitHostname", "nothing was deleted")
    assert etcd.read("/deis/controller/workers") == "2"

    out = dctl("config", "controller", "rm", "--ignore-missing", "workers", "unitHostname")
    assert (out.exit_code, out.stdout) == (0, "workers\n")
    assert etcd.read("/deis/controller/workers") is None

    out = dctl("config", "controller", "rm", "webEnabled")
    assert (out.exit_code, out.stdout) == (0, "webEnabled\n")
    assert etcd.read_prefix("/deis/") == {}


def test_json_and_yaml_output(dctl, etcd):
    import json

    import yaml

    from tests.helpers import without_revision

    out = dctl("-o", "json", "config", "controller", "set", "workers=3", "webEnabled=0")
    assert without_revision(json.loads(out.stdout)) == [
        {"key": "workers", "value": "3", "previous": None, "changed": True},
        {"key": "webEnabled", "value": "0", "previous": None, "changed": True},
    ]
    out = dctl("-o", "json", "config", "controller", "set", "workers=3", "webEnabled=1")
    assert without_revision(json.loads(out.stdout)) == [
        {"key": "workers", "value": "3", "previous": "3", "changed": False},
        {"key": "webEnabled", "value": "1", "previous": "0", "changed": True},
    ]
    out = dctl("-o", "yaml", "config", "controller", "get")
    assert yaml.safe_load(out.stdout) == {"webEnabled": "1", "workers": "3"}
    out = dctl("--output", "json", "config", "controller", "get", "workers")
    assert json.loads(out.stdout) == {"workers": "3"}
    dctl("config", "myapp", "set", "--new-component", "motd=a\nb")
    assert yaml.safe_load(dctl("-o", "yaml", "config", "myapp", "get").stdout) == {"motd": "a\nb"}
    out = dctl("-o", "json", "config", "controller", "rm", "workers")
    assert json.loads(out.stdout) == ["workers"]


def test_prefix_option_and_environment(cli, etcd):
    out = cli("--endpoints", etcd.endpoints, "--prefix", "/custom/", "config", "controller", "set", "workers=2")
    assert out.exit_code == 0
    assert etcd.read("/custom/controller/workers") == "2"
    out = cli("config", "controller", "get", "workers",
              env={"DEISCTL_ENDPOINTS": etcd.endpoints, "DEISCTL_PREFIX": "/custom"})
    assert out.stdout == "2\n"


def test_flags_win_over_environment(cli, etcd):
    etcd.write("/deis/controller/workers", "5")
    dead = "http://127.0.0.1:9"
    out = cli("--endpoints", etcd.endpoints, "config", "controller", "get", "workers",
              env={"DEISCTL_ENDPOINTS": dead})
    assert out.stdout == "5\n"
    out = cli("config", "controller", "get", "workers", env={"DEISCTL_ENDPOINTS": etcd.endpoints})
    assert out.stdout == "5\n"
    out = cli("config", "controller", "get", "workers", env={"DEISCTL_ENDPOINTS": dead})
    assert_error(out, 4, "127.0.0.1:9")
    out = cli("--output", "text", "config", "controller", "get", "workers",
              env={"DEISCTL_ENDPOINTS": etcd.endpoints, "DEISCTL_OUTPUT": "json"})
    assert out.stdout == "5\n"


def test_help_documents_exit_codes(cli):
    out = cli("--help")
    assert out.exit_code == 0
    assert "Exit codes: 0 ok" in out.stdout and "6 conflict" in out.stdout


@pytest.mark.parametrize("args", [[], ["config"], ["config", "controller"], ["users"], ["context"]])
def test_a_bare_group_prints_its_help(cli, args):
    out = cli(*args)
    assert out.exit_code == 0 and out.stderr == ""
    assert out.stdout.startswith("Usage: deisctl")
    assert ("--install-completion" in out.stdout) == (args == [])


def test_a_global_option_after_the_command_gets_a_hint(cli):
    out = cli("config", "controller", "get", "--endpoints", "http://127.0.0.1:9")
    assert_error(out, 2, "no such option: --endpoints", "--endpoints is a global option: put it before the command")


def test_output_format_may_follow_the_command(dctl, etcd):
    import json

    out = dctl("config", "controller", "set", "workers=2", "-o", "json")
    assert json.loads(out.stdout)[0]["key"] == "workers"
    assert json.loads(dctl("config", "controller", "get", "workers", "--output", "json").stdout) == {"workers": "2"}
    assert json.loads(dctl("config", "controller", "rm", "workers", "-o", "json").stdout) == ["workers"]
    out = dctl("config", "controller", "set", "workers=3", "-o", "xml")
    assert_error(out, 2, "unknown output format")
    assert etcd.read("/deis/controller/workers") is None


def test_schema_lists_what_each_key_accepts_and_who_reads_it(dctl):
    out = dctl("config", "schema", "controller")
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "controller: the Deis API server (Django)"
    row = next(line for line in lines if line.strip().startswith("registrationMode "))
    assert "enabled|disabled|admin_only" in row and ">= 1.6" in row
    assert "< 1.6" in next(line for line in lines if line.strip().startswith("registrationEnabled "))
    assert "secret, published" in next(line for line in lines if line.strip().startswith("secretKey "))
    rows = json.loads(dctl("config", "schema", "-o", "json").stdout)
    ssh_key = next(r for r in rows if r["key"] == "sshPrivateKey")
    assert (ssh_key["component"], ssh_key["secret"], ssh_key["file"]) == ("platform", True, "base64")
    assert_error(dctl("config", "schema", "controlle"), 3, "did you mean 'controller'?")


def test_set_and_rm_dry_run_write_nothing(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "controller", "set", "workers=3", "webEnabled=1", "--dry-run", "-o", "json")
    assert out.exit_code == 0 and "dry run: nothing written" in out.stderr
    assert json.loads(out.stdout) == [
        {"key": "workers", "value": "3", "previous": "2", "changed": True},
        {"key": "webEnabled", "value": "1", "previous": None, "changed": True}]
    assert_error(dctl("config", "controller", "set", "workers=x", "--dry-run"), 2, "positive integer")
    out = dctl("config", "controller", "rm", "workers", "--dry-run")
    assert (out.exit_code, out.stdout) == (0, "workers\n")
    assert_error(dctl("config", "controller", "rm", "workers", "nope", "--dry-run"), 3, "nothing would be deleted")
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "2"}


def test_components_named_like_config_commands(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "export", "get")  # meant: the keys of a component named "export"
    assert_error(out, 2, "'export' is a command, so no component can be named export",
                 "'deisctl config COMPONENT get'")
    assert out.stdout == ""
    out = dctl("config", "export", "myaddon")  # a component without keys: said, not an error
    assert out.exit_code == 0 and "myaddon: {}" in out.stdout and "warning: myaddon: no keys" in out.stderr
    for name in ("export", "apply", "diff", "schema"):
        out = dctl("config", "apply", "-f", "-", input=f"{name}:\n  a: '1'\n")
        assert_error(out, 2, f"{name!r} cannot be a component name")
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "2"}


def test_set_if_revision_writes_only_when_nothing_changed_since(dctl, etcd):
    """`consul kv put -cas` for scripts: the revision from one write's JSON guards the next."""
    import json

    first = json.loads(dctl("config", "controller", "set", "workers=2", "-o", "json").stdout)
    revision = first[0]["revision"]
    assert revision == int(json.loads(etcd.etcdctl("get", "/deis/controller/workers", "-w", "json").stdout)
                           ["kvs"][0]["mod_revision"])
    out = dctl("config", "controller", "set", "--if-revision", str(revision), "workers=3", "-o", "json")
    assert out.exit_code == 0, out.stderr
    second = json.loads(out.stdout)[0]["revision"]
    assert second > revision and etcd.read("/deis/controller/workers") == "3"

    etcd.write("/deis/controller/workers", "5")  # someone else, after `second`
    stale = dctl("config", "controller", "set", "--if-revision", str(second), "workers=4", "registrationMode=enabled")
    assert_error(stale, 6, f"changed after revision {second}: /deis/controller/workers; nothing was written")
    assert (etcd.read("/deis/controller/workers"), etcd.read("/deis/controller/registrationMode")) == ("5", None)
    assert_error(dctl("config", "controller", "set", "--if-revision", "x", "workers=4"), 2, "--if-revision")
    assert "revision" not in json.loads(dctl("config", "controller", "set", "workers=6", "--dry-run",
                                             "-o", "json").stdout)[0]


def test_apply_json_gives_the_revision_written(dctl, etcd, tmp_path):
    import json

    document = tmp_path / "doc.yaml"
    document.write_text("controller:\n  workers: '7'\n")
    data = json.loads(dctl("config", "apply", "-f", str(document), "-o", "json").stdout)
    assert data["revision"] == int(json.loads(etcd.etcdctl("get", "/deis/controller/workers", "-w", "json").stdout)
                                   ["kvs"][0]["mod_revision"])


def _help_commands(args: list[str]) -> dict[str, str]:
    """The Commands section of `deisctl ARGS --help` (the real entry point, 80 columns): {name: summary}."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["COLUMNS"] = "80"
    out = subprocess.run(deisctl_command() + args + ["--help"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    if "Commands:" not in lines:
        return {}
    commands: dict[str, str] = {}
    for line in lines[lines.index("Commands:") + 1:]:
        if not line.strip():
            break
        if match := re.fullmatch(r"  (\S+) +(.*)", line):
            name, text = match.groups()
            commands[name] = text
        else:  # a summary wrapped onto the next line
            commands[name] += " " + line.strip()
    return commands


def test_every_command_summary_is_a_whole_sentence():
    """Click cuts a summary at 45 characters ("Deis <..."); ours are the help's whole first sentence."""
    groups, seen = [[]], []
    while groups:
        args = groups.pop()
        for name, summary in _help_commands(args).items():
            seen.append(" ".join(args + [name]))
            assert "..." not in summary and summary.endswith((".", ")")), (args + [name], summary)
            assert summary[0].isupper() or summary[0] == "`", (args + [name], summary)
            groups.append(args + [name])
        if args == ["config"]:  # the component groups are not listed: one stands for all
            groups.append(["config", "controller"])
    # every level was walked: the root, `config`, `config COMPONENT`, `users`, `context`, `registration`
    assert {"config", "config apply", "config controller set", "users revoke-token", "context use",
            "registration admin-only"} <= set(seen), seen
