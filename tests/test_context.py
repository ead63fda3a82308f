"""Cluster contexts (config file, precedence flag > env > context > default) and shell completion."""

from __future__ import annotations

import json
import os

import pytest

from deisctl import contexts, settings as settings_mod
from tests.rig.ports import free_port
from tests.helpers import assert_error


@pytest.fixture
def config_file(tmp_path, monkeypatch, etcd):
    path = tmp_path / "deisctl" / "config.yaml"
    path.parent.mkdir()
    path.write_text(
        "# my clusters\n"
        "current-context: local\n"
        "contexts:\n"
        "  local:\n"
        f"    endpoints: [{etcd.endpoints}]\n"
        "    prefix: /ctx\n"
        "    dial_timeout: 1.5\n"
        "    ssh_user: core\n"
        "    ssh_key: keys/id_ed25519   # relative to this file\n"
        "    controller_host: 10.0.0.12\n"
        "  dead:\n"
        f"    endpoints: http://127.0.0.1:{free_port()}\n"
        "    prefix: /dead\n"
    )
    monkeypatch.setenv("DEISCTL_CONFIG", str(path))
    return path


def test_current_context_supplies_endpoints_and_prefix(cli, etcd, config_file):
    etcd.write("/ctx/controller/workers", "3")
    out = cli("config", "controller", "get", "workers")
    assert (out.exit_code, out.stdout) == (0, "3\n"), out.stderr


def test_precedence_flag_over_env_over_context_over_default(cli, etcd, config_file, monkeypatch):
    for prefix, value in (("/ctx", "context"), ("/env", "env"), ("/flag", "flag"), ("/deis", "default")):
        etcd.write(f"{prefix}/myapp/who", value)
    assert cli("config", "myapp", "get", "who").stdout == "context\n"
    monkeypatch.setenv("DEISCTL_PREFIX", "/env")
    assert cli("config", "myapp", "get", "who").stdout == "env\n"
    assert cli("--prefix", "/flag", "config", "myapp", "get", "who").stdout == "flag\n"

    # Unset in the context: the default. --context/DEISCTL_CONTEXT pick another context.
    settings = settings_mod.build({}, os.environ)
    assert (settings.context, settings.dial_timeout, settings.command_timeout) == ("local", 1.5, 5.0)
    assert settings.sources["dial_timeout"] == "context local"
    assert settings.sources["command_timeout"] == "default"
    out = cli("--context", "dead", "--dial-timeout", "0.5", "config", "myapp", "get", "who")
    assert_error(out, 4, "cannot reach etcd")
    monkeypatch.setenv("DEISCTL_CONTEXT", "dead")
    out = cli("--endpoints", etcd.endpoints, "--prefix", "/flag", "config", "myapp", "get", "who")
    assert out.stdout == "flag\n"


def test_context_values_for_ssh_commands(config_file):
    settings = settings_mod.build({}, os.environ)
    assert contexts.value(settings, "ssh_user") == "core"
    assert contexts.value(settings, "controller_host") == "10.0.0.12"
    assert contexts.value(settings, "ssh_key") == str(config_file.parent / "keys" / "id_ed25519")
    assert contexts.value(settings, "ssh_port", 22) == 22
    with pytest.raises(KeyError):
        contexts.value(settings, "no_such_setting")


def test_context_list_show_use(cli, etcd, config_file):
    out = cli("context", "list")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines()[0] == f"* local  {etcd.endpoints}"
    assert out.stdout.splitlines()[1].startswith("  dead ")
    assert [c["name"] for c in json.loads(cli("context", "list", "-o", "json").stdout)] == ["local", "dead"]

    shown = cli("context", "show")
    assert "prefix=/ctx  (context local)" in shown.stdout
    assert "command_timeout=5.0  (default)" in shown.stdout
    assert "ssh_user=core  (context local)" in shown.stdout
    assert "prefix=/flag  (flag or environment)" in cli("--prefix", "/flag", "context", "show").stdout
    assert json.loads(cli("context", "show", "dead", "-o", "json").stdout)["settings"]["prefix"] == "/dead"

    assert cli("context", "use", "dead").exit_code == 0
    text = config_file.read_text()
    assert "current-context: dead\n" in text and text.startswith("# my clusters\n")  # comments kept
    assert cli("context", "list").stdout.splitlines()[1].startswith("* dead")
    assert_error(cli("context", "use", "nope"), 2, "no context 'nope'", "known contexts: dead, local")


def test_unknown_context_is_a_usage_error_but_context_commands_still_work(cli, config_file):
    assert_error(cli("--context", "nope", "config", "x", "get"), 2, "no context 'nope'", "known contexts: dead, local")
    assert cli("--context", "nope", "context", "list").exit_code == 0
    config_file.write_text(config_file.read_text().replace("current-context: local", "current-context: gone"))
    assert_error(cli("config", "x", "get"), 2, "no context 'gone' (current-context)")
    assert cli("context", "use", "local").exit_code == 0


def test_bad_config_files(cli, tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    monkeypatch.setenv("DEISCTL_CONFIG", str(path))
    assert_error(cli("--context", "x", "config", "a", "get"), 2, "no config file at")
    assert_error(cli("context", "use", "a"), 2, "no config file at")
    path.write_text("contexts:\n  a:\n    endpoint: http://x\n")
    assert_error(cli("config", "a", "get"), 2, "unknown setting 'endpoint'")
    path.write_text("contexts: [\n")
    assert_error(cli("config", "a", "get"), 2, "not valid YAML")
    path.write_text("contexts:\n  a:\n    dial_timeout: soon\n")
    assert_error(cli("--context", "a", "config", "a", "get"), 2, "dial_timeout must be a number")


def test_no_config_file_changes_nothing(cli, etcd):
    etcd.write("/deis/myapp/a", "1")
    assert cli("--endpoints", etcd.endpoints, "config", "myapp", "get", "a").stdout == "1\n"


# -- shell completion (Click's protocol, through the installed executable) -------------------------


def test_context_list_without_a_config_file_is_empty_not_an_error(cli, tmp_path):
    out = cli("context", "list", env={"DEISCTL_CONFIG": str(tmp_path / "absent.yaml")})
    assert (out.exit_code, out.stdout) == (0, "")
    assert "no contexts: no config file at" in out.stderr
    out = cli("-o", "json", "context", "list", env={"DEISCTL_CONFIG": str(tmp_path / "absent.yaml")})
    assert (out.exit_code, out.stdout.strip()) == (0, "[]")


def test_context_use_writes_through_a_symlink_and_keeps_the_mode(cli, config_file, tmp_path):
    """A config file kept in a dotfiles folder and linked into place stays a link; its target
    changes, atomically, with its own permissions."""
    real = tmp_path / "dotfiles" / "deisctl.yaml"
    real.parent.mkdir()
    real.write_text(config_file.read_text())
    real.chmod(0o640)
    config_file.unlink()
    config_file.symlink_to(real)
    assert cli("context", "use", "dead").exit_code == 0
    assert config_file.is_symlink() and "current-context: dead\n" in real.read_text()
    assert (real.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in real.parent.iterdir()] == ["deisctl.yaml"]  # no temp file left behind


def test_context_use_keeps_a_json_config_json(cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"current-context": "a", "contexts": {"a": {"prefix": "/a"}, "b": {"prefix": "/b"}}}))
    env = {"DEISCTL_CONFIG": str(path)}
    assert cli("context", "use", "b", env=env).exit_code == 0
    assert json.loads(path.read_text())["current-context"] == "b"  # still JSON, and switched
    assert cli("context", "list", env=env).stdout.splitlines()[1].startswith("* b")


def test_context_use_with_a_quoted_key_changes_that_line_only(cli, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text('# mine\n"current-context": a   # the default\ncontexts:\n  a: {prefix: /a}\n  b: {prefix: /b}\n')
    env = {"DEISCTL_CONFIG": str(path)}
    out = cli("context", "use", "b", env=env)
    assert out.exit_code == 0, out.stderr
    assert path.read_text() == '# mine\n"current-context": b\ncontexts:\n  a: {prefix: /a}\n  b: {prefix: /b}\n'
    assert cli("context", "show", env=env).stdout.count("(context b)") >= 1
