"""Every hint the config side gives works when followed literally (the remote side: test_hints.py)."""

from __future__ import annotations


from tests.helpers import hint_of, assert_error


def test_too_many_keys_for_one_set_then_apply(dctl, etcd, tmp_path):
    pairs = [f"k{i:03d}=v" for i in range(129)]
    out = dctl("config", "myapp", "set", "--new-component", *pairs)
    assert_error(out, 2, "at most 125 fit in one etcd transaction (etcd allows 128 operations, the audit record takes 3)")
    assert "use 'deisctl config apply'" in hint_of(out)
    doc = tmp_path / "s.yaml"
    doc.write_text("myapp:\n" + "".join(f"  k{i:03d}: v\n" for i in range(129)))
    out = dctl("config", "apply", "-f", str(doc))  # myapp is new: apply names its own flag
    assert hint_of(out) == "to create a new component, rerun with --new-component"
    assert dctl("config", "apply", "-f", str(doc), "--new-component").exit_code == 0
    assert len(etcd.read_prefix("/deis/myapp/")) == 129


def test_rm_of_a_missing_key_then_ignore_missing(dctl, etcd):
    etcd.write("/deis/myapp/a", "1")
    out = dctl("config", "myapp", "rm", "a", "nope")
    assert_error(out, 3, "nothing was deleted")
    assert hint_of(out) == "--ignore-missing deletes the others"
    assert dctl("config", "myapp", "rm", "a", "nope", "--ignore-missing").stdout == "a\n"


def test_strict_then_drop_strict(dctl, etcd):
    out = dctl("config", "controller", "set", "registrationEnable=0", "--strict")
    assert_error(out, 2, "did you mean 'registrationEnabled'")
    assert hint_of(out) == "drop --strict and rerun with --new-key to write it anyway"
    assert dctl("config", "controller", "set", "registrationEnable=0", "--new-key").exit_code == 0
    out = dctl("config", "controller", "set", "registrationBanner=hi", "--strict")  # far from any known key
    assert hint_of(out) == "drop --strict to write it anyway"
    assert dctl("config", "controller", "set", "registrationBanner=hi").exit_code == 0


def test_empty_value_then_rm(dctl, etcd):
    etcd.write("/deis/myapp/a", "1")
    out = dctl("config", "myapp", "set", "--new-component", "a=")
    assert hint_of(out) == "use 'rm' to delete a key"
    assert dctl("config", "myapp", "rm", "a").exit_code == 0 and etcd.read("/deis/myapp/a") is None


def test_masked_document_then_keep_masked_or_show_secrets(dctl, etcd, tmp_path):
    etcd.write("/deis/controller/auth/ldap/bind/password", "s")
    etcd.write("/deis/controller/workers", "2")
    doc = tmp_path / "export.yaml"
    assert dctl("config", "export", "controller", "-f", str(doc)).exit_code == 0
    out = dctl("config", "apply", "-f", str(doc))
    assert_error(out, 2, "is masked")
    assert "--keep-masked" in hint_of(out) and "--show-secrets" in hint_of(out)
    assert dctl("config", "apply", "-f", str(doc), "--keep-masked").exit_code == 0
    assert dctl("config", "export", "controller", "--show-secrets", "-f", str(doc)).exit_code == 0
    assert dctl("config", "apply", "-f", str(doc)).exit_code == 0
    assert etcd.read("/deis/controller/auth/ldap/bind/password") == "s"


def test_omitted_key_then_prune(dctl, etcd, tmp_path):
    etcd.write("/deis/myapp/a", "1")
    etcd.write("/deis/myapp/b", "2")
    doc = tmp_path / "s.yaml"
    doc.write_text("myapp:\n  a: '1'\n  b:\n")
    out = dctl("config", "apply", "-f", str(doc))
    assert_error(out, 2, "myapp/b: empty value", "omit the key; with --prune, that deletes it")
    doc.write_text("myapp:\n  a: '1'\n")
    out = dctl("config", "apply", "-f", str(doc), "--prune")  # no terminal: any deletion needs --yes
    assert hint_of(out).startswith("pass --yes to confirm")
    assert dctl("config", "apply", "-f", str(doc), "--prune", "--yes").exit_code == 0
    assert etcd.read_prefix("/deis/myapp/") == {"/deis/myapp/a": "1"}


def test_rollback_to_a_revision_without_the_key_then_history(dctl, etcd):
    etcd.write("/deis/myapp/a", "1")
    out = dctl("config", "myapp", "rollback", "a", "--to-revision", "1")
    assert_error(out, 3, "did not exist at revision 1")
    assert hint_of(out) == "see 'deisctl config myapp history a'"
    assert dctl("config", "myapp", "history", "a").exit_code == 0


def test_bad_endpoint_then_the_form_the_hint_gives(cli, etcd):
    out = cli("--endpoints", "ftp://" + etcd.endpoints.split("://", 1)[1], "config", "myapp", "get")
    assert hint_of(out) == "use http://HOST:PORT or https://HOST:PORT"
    assert cli("--endpoints", etcd.endpoints, "config", "myapp", "get").exit_code in (0, 3)


def test_exporting_a_verb_then_reading_the_component(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "export", "get")
    assert hint_of(out) == "to read a component's keys: 'deisctl config COMPONENT get'"
    assert dctl("config", "controller", "get").stdout == "workers=2\n"


def test_no_config_file_then_deisctl_config(cli, tmp_path):
    out = cli("context", "use", "prod", env={"DEISCTL_CONFIG": str(tmp_path / "absent.yaml")})
    assert_error(out, 2, "no config file")
    assert "set DEISCTL_CONFIG" in hint_of(out)
    config = tmp_path / "config.yaml"
    config.write_text("contexts:\n  prod:\n    prefix: /deis\n")
    out = cli("context", "use", "prod", env={"DEISCTL_CONFIG": str(config)})
    assert out.exit_code == 0 and "current-context: prod" in config.read_text()


def test_unknown_shell_then_naming_it(cli):
    out = cli("--show-completion", env={"SHELL": ""})
    assert_error(out, 2, "cannot tell the shell")
    assert hint_of(out) == "name it: bash, zsh or fish"
    assert "_DEISCTL_COMPLETE=zsh_complete" in cli("--show-completion", "zsh").stdout


def test_unexpected_error_then_debug(cli, monkeypatch):
    """A bug's one line says how to get its traceback; both ways it names work."""
    from deisctl.ops import contexts

    def broken(inv):
        raise RuntimeError("a bug")

    monkeypatch.setattr(contexts, "list_contexts", broken)
    out = cli("context", "list")
    assert_error(out, 1, "unexpected RuntimeError: a bug")
    assert "DEISCTL_DEBUG=1" in hint_of(out) and "--debug before the command" in hint_of(out)
    for followed in (cli("context", "list", env={"DEISCTL_DEBUG": "1"}), cli("--debug", "context", "list")):
        assert followed.exit_code == 1 and "Traceback" in followed.stderr and "RuntimeError: a bug" in followed.stderr


def test_the_verb_before_the_component_then_the_line_it_gives(cli, dctl, etcd):
    import shlex

    out = dctl("config", "set", "controller", "registrationEnabled=0")
    assert_error(out, 2, "'set' is a verb of a component, and the component comes first")
    line = hint_of(out).removeprefix("as in ").strip("'")
    assert line == "deisctl config controller set registrationEnabled=0"
    assert dctl(*shlex.split(line)[1:]).exit_code == 0  # the line, as given
    assert etcd.read("/deis/controller/registrationEnabled") == "0"


def test_the_first_cannot_reach_etcd_names_the_three_ways_to_point_deisctl(cli, etcd, tmp_path):
    import re

    env = {"DEISCTL_CONFIG": str(tmp_path / "config.yaml")}
    out = cli("--dial-timeout", "0.5", "config", "controller", "get", env=env)  # the default 127.0.0.1:2379
    assert_error(out, 4, "cannot reach etcd: http://127.0.0.1:2379", "deisctl used its default endpoint")
    hint = hint_of(out)
    assert "pass --endpoints URLS before the command" in hint
    assert cli("--endpoints", etcd.endpoints, "config", "controller", "get", env=env).exit_code == 0
    assert "set DEISCTL_ENDPOINTS=URLS" in hint
    assert cli("config", "controller", "get", env=dict(env, DEISCTL_ENDPOINTS=etcd.endpoints)).exit_code == 0
    # "name a context (see 'deisctl context --help')": its example, with this test's etcd, works as a config file.
    help_text = cli("context", "--help").stdout
    example = re.search(r"The file, for example:\n\n(.*?)\n\n", help_text, re.S).group(1)
    example = "\n".join(line[6:] for line in example.splitlines())
    (tmp_path / "config.yaml").write_text(example.replace("http://10.0.1.10:2379,http://10.0.1.11:2379",
                                                          etcd.endpoints))
    assert cli("context", "list", env=env).stdout.splitlines()[0].startswith("* staging")
    assert cli("config", "controller", "get", env=env).exit_code == 0  # staging's endpoints, prefix /deis
    # A configured endpoint that is down is not a newcomer's mistake: no such hint then.
    down = cli("--endpoints", "http://127.0.0.1:9", "--dial-timeout", "0.5", "config", "controller", "get", env=env)
    assert "default endpoint" not in down.stderr
