"""`deisctl config COMPONENT edit` through the installed executable against real etcd.

The editor is a small Python program named by EDITOR, as a person's editor would be (it gets
the file's path as its last argument); what it changes, and whatever it does to etcd meanwhile
(another operator), is each test's. State is checked with etcdctl.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from tests.helpers import assert_error, hint_of, run_on_terminal
from tests.rig.cli import deisctl_command

SEEDED = {"registrationMode": "enabled", "workers": "2", "secretKey": "s3cr3t-value", "webEnabled": "1"}


@pytest.fixture
def seeded(etcd):
    for key, value in SEEDED.items():
        etcd.write(f"/deis/controller/{key}", value)
    return etcd


def editor(tmp_path: Path, body: str, name: str = "editor.py") -> str:
    """EDITOR running body with `path` (the file to edit) and `text` (its content) defined; what
    body leaves in `text` is saved. `run` counts the editor's runs (1 at the first)."""
    script = tmp_path / name
    count = tmp_path / (name + ".runs")
    script.write_text(
        "import subprocess, sys\n"
        f"path, count = sys.argv[-1], {str(count)!r}\n"
        "try:\n    run = int(open(count).read()) + 1\nexcept OSError:\n    run = 1\n"
        "open(count, 'w').write(str(run))\n"
        "text = open(path).read()\n"
        f"{body}\n"
        "open(path, 'w').write(text)\n")
    return f"{sys.executable} {script}"


def edit(run_deisctl, etcd, editor_command: str, *args: str, env: dict | None = None):
    return run_deisctl("--endpoints", etcd.endpoints, *args[:1] or ("config",), *args[1:] or ("controller", "edit"),
                       env={"EDITOR": editor_command, **(env or {})}, input="")


def kept_file(out) -> str:
    match = re.search(r"the edited file is kept: (\S+?\.yaml)", out.stderr)
    assert match, out.stderr
    return match[1]


def test_edit_writes_what_changed_keeps_masked_secrets_and_shows_the_diff(run_deisctl, seeded, tmp_path):
    command = editor(tmp_path, "text = text.replace('workers: \\'2\\'', 'workers: \\'4\\'')"
                               ".replace('  webEnabled: \\'1\\'\\n', '')"
                               " + '  registrationEnabled: \\'0\\'\\n'")
    out = run_deisctl("--endpoints", seeded.endpoints, "-o", "json", "config", "controller", "edit",
                      env={"EDITOR": command}, input="")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert {(c["key"], c["action"]) for c in result["changes"]} == {
        ("controller/workers", "changed"), ("controller/webEnabled", "removed"),
        ("controller/registrationEnabled", "added")}
    assert seeded.read_prefix("/deis/controller/") == {
        "/deis/controller/registrationMode": "enabled", "/deis/controller/workers": "4",
        "/deis/controller/secretKey": "s3cr3t-value", "/deis/controller/registrationEnabled": "0"}
    got = json.loads(seeded.etcdctl("get", "/deis/controller/workers", "-w", "json").stdout)["kvs"][0]
    assert result["revision"] == got["mod_revision"] and result["read_at"] < result["revision"]
    assert (tmp_path / "editor.py.runs").read_text() == "1"  # the editor ran once
    assert "s3cr3t-value" not in out.stdout + out.stderr

    # Text output: the unified diff of what was written, then the summary.
    command = editor(tmp_path, "text = text.replace('workers: \\'4\\'', 'workers: \\'5\\'')", name="again.py")
    out = edit(run_deisctl, seeded, command)
    assert out.exit_code == 0, out.stderr
    assert "-controller/workers: 4\n+controller/workers: 5\n" in out.stdout
    assert out.stdout.splitlines()[-1].startswith("1 changed (written at revision ")


def test_what_the_editor_shows(run_deisctl, seeded, tmp_path):
    keep = tmp_path / "shown.yaml"
    command = editor(tmp_path, f"open({str(keep)!r}, 'w').write(text); import os; "
                               f"open({str(tmp_path / 'mode')!r}, 'w').write(oct(os.stat(path).st_mode & 0o777))")
    out = edit(run_deisctl, seeded, command)
    assert (out.exit_code, out.stdout) == (0, "no changes: nothing written\n"), out.stderr
    text = keep.read_text()
    assert text.startswith("# deisctl config controller edit: controller as read at etcd revision ")
    assert "secretKey: '********'" in text and "s3cr3t-value" not in text
    assert "workers: '2'" in text
    assert (tmp_path / "mode").read_text() == "0o600"

    out = edit(run_deisctl, seeded, command, "config", "controller", "edit", "--show-secrets")
    assert out.exit_code == 0
    assert "secretKey: s3cr3t-value" in keep.read_text()


def test_unchanged_or_emptied_file_writes_nothing(run_deisctl, seeded, tmp_path):
    before = json.loads(seeded.etcdctl("get", "/", "--prefix", "-w", "json", "--keys-only").stdout)["header"]
    out = edit(run_deisctl, seeded, editor(tmp_path, "pass"))
    assert (out.exit_code, out.stdout) == (0, "no changes: nothing written\n"), out.stderr
    out = edit(run_deisctl, seeded, editor(tmp_path, "text = ''", name="empty.py"))
    assert out.exit_code == 0 and "is empty: edit cancelled, nothing was written" in out.stderr
    out = edit(run_deisctl, seeded, editor(tmp_path, "text = text + '\\n# a comment\\n'", name="comment.py"))
    assert (out.exit_code, out.stdout) == (0, "no changes: nothing written\n"), out.stderr
    after = json.loads(seeded.etcdctl("get", "/", "--prefix", "-w", "json", "--keys-only").stdout)["header"]
    assert after["revision"] == before["revision"]  # not one write, not even a no-op one


def test_someone_else_changed_the_component_meanwhile(run_deisctl, seeded, tmp_path):
    """kubectl edit's rule: another key of the component written (or created, or deleted) while
    the file was open fails the write as a whole: exit 6, nothing written, the file kept."""
    cases = {
        "changed": ("put", "/deis/controller/registrationMode", "admin_only"),
        "created": ("put", "/deis/controller/newKey", "x"),
        "deleted": ("del", "/deis/controller/webEnabled"),
    }
    for case, etcdctl_args in cases.items():
        seeded.wipe("/deis/")
        for key, value in SEEDED.items():
            seeded.write(f"/deis/controller/{key}", value)
        argv = seeded_argv(seeded, etcdctl_args)
        command = editor(tmp_path, f"subprocess.run({argv!r}, check=True, capture_output=True)\n"
                                   "text = text.replace('workers: \\'2\\'', 'workers: \\'9\\'')", name=f"{case}.py")
        out = edit(run_deisctl, seeded, command)
        assert_error(out, 6, "changed by someone else since it was read")
        assert seeded.read("/deis/controller/workers") == "2", case  # nothing written
        kept = kept_file(out)
        assert "workers: '9'" in Path(kept).read_text(), case
        assert oct(os.stat(kept).st_mode & 0o777) == "0o600"
        Path(kept).unlink()
    # the key another writer created or changed is named
    assert "newKey" in out.stderr or "webEnabled" in out.stderr


def seeded_argv(etcd, args) -> list:
    """etcdctl with args, as another operator's command."""
    import shutil

    return [shutil.which("etcdctl") or "etcdctl", "--endpoints", etcd.endpoints, *args]


def test_an_invalid_document_without_a_terminal_fails_naming_the_kept_file(run_deisctl, seeded, tmp_path):
    command = editor(tmp_path, "text = text.replace('workers: \\'2\\'', 'workers: [1, 2]')")
    out = edit(run_deisctl, seeded, command)
    assert_error(out, 2, "controller/workers: values are strings, not lists")
    assert "workers: [1, 2]" in Path(kept_file(out)).read_text()
    assert seeded.read("/deis/controller/workers") == "2"

    # a likely typo of a key: refused like set's, and the hint, followed, writes it
    command = editor(tmp_path, "text = text + \"  Workers: '3'\\n\"", name="typo.py")
    out = edit(run_deisctl, seeded, command)
    assert_error(out, 2, "controller/Workers looks like a typo of controller/workers")
    assert hint_of(out) == "to write Workers as a key of its own, rerun with --new-key"
    out = edit(run_deisctl, seeded, command, "config", "controller", "edit", "--new-key")
    assert out.exit_code == 0, out.stderr
    assert seeded.read("/deis/controller/Workers") == "3"

    # the document must hold this component only
    command = editor(tmp_path, "text = text + \"router:\\n  enforceHTTPS: 'true'\\n\"", name="other.py")
    out = edit(run_deisctl, seeded, command)
    assert_error(out, 2, "the document must hold controller and only it (it also names router)")
    assert seeded.read_prefix("/deis/router/") == {}


def test_an_invalid_document_on_a_terminal_reopens_the_editor(seeded, tmp_path):
    body = ("if run == 1:\n    text = text.replace('workers: \\'2\\'', 'workers: [1]')\n"
            "else:\n    assert text.startswith('# ERROR: '), text\n"
            "    text = text.replace('workers: [1]', 'workers: \\'6\\'')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(EDITOR=editor(tmp_path, body), DEISCTL_ENDPOINTS=seeded.endpoints, TERM="dumb")
    code, printed = run_on_terminal(deisctl_command() + ["config", "controller", "edit"], b"", env=env, prompt=b"")
    assert code == 0, printed
    assert (tmp_path / "editor.py.runs").read_text() == "2"
    assert seeded.read("/deis/controller/workers") == "6"
    assert "+controller/workers: 6" in printed

    # saved unchanged after the error: giving up, the file kept, nothing written
    body = "if run == 1:\n    text = text.replace('workers: \\'6\\'', 'workers: [1]')"
    env["EDITOR"] = editor(tmp_path, body, name="giveup.py")
    code, printed = run_on_terminal(deisctl_command() + ["config", "controller", "edit"], b"", env=env, prompt=b"")
    assert code == 2, printed
    assert "still invalid" in printed and "the edited file is kept" in printed
    assert seeded.read("/deis/controller/workers") == "6"


def test_no_editor_without_a_terminal_is_refused_at_once(run_deisctl, seeded, tmp_path):
    out = run_deisctl("--endpoints", seeded.endpoints, "config", "controller", "edit", input="",
                      env={"EDITOR": "", "VISUAL": ""})
    assert_error(out, 2, "config edit needs an editor, and there is no terminal to run one on")
    assert hint_of(out).startswith("set VISUAL or EDITOR")
    out = run_deisctl("--endpoints", seeded.endpoints, "config", "controller", "edit", input="",
                      env={"EDITOR": editor(tmp_path, "pass"), "VISUAL": ""})
    assert out.exit_code == 0, out.stderr
    # VISUAL wins over EDITOR, as in git and kubectl
    out = run_deisctl("--endpoints", seeded.endpoints, "config", "controller", "edit", input="",
                      env={"EDITOR": "false", "VISUAL": editor(tmp_path, "pass", name="visual.py")})
    assert out.exit_code == 0, out.stderr
    out = edit(run_deisctl, seeded, "false")
    assert_error(out, 1, "the editor 'false' exited with status 1; nothing was written")


def test_edit_names_the_component_first_and_refuses_typos(run_deisctl, seeded, tmp_path):
    out = run_deisctl("--endpoints", seeded.endpoints, "config", "edit", "controller", input="")
    assert_error(out, 2, "'edit' is a verb of a component, and the component comes first",
                 "deisctl config controller edit")
    out = edit(run_deisctl, seeded, editor(tmp_path, "pass"), "config", "controler", "edit")
    assert_error(out, 2, "unknown component 'controler'", "did you mean 'controller'?")
    assert not (tmp_path / "editor.py.runs").exists()  # refused before the editor opened


def test_an_edit_larger_than_one_transaction(run_deisctl, etcd, tmp_path):
    """300 changes are three transactions; each later one compares the component against the one
    before it (its own writes are not someone else's)."""
    for index in range(300):
        etcd.write(f"/deis/bulk/key{index:03d}", "old")
    command = editor(tmp_path, "text = text.replace(\"'old'\", \"'new'\").replace(': old', ': new')")
    out = run_deisctl("--endpoints", etcd.endpoints, "-o", "json", "config", "bulk", "edit",
                      env={"EDITOR": command}, input="", timeout=120)
    assert out.exit_code == 0, out.stderr
    assert len(json.loads(out.stdout)["changes"]) == 300
    assert set(etcd.read_prefix("/deis/bulk/").values()) == {"new"}
