"""Output that cannot be written, with the real executable against a real etcd: a write that was
made is never reported as a failure because its output could not be printed (exit 0 and one
warning); a read whose output is lost fails with one line; never a traceback."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from tests.rig.cli import deisctl_command


def shell(command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    full.update(env or {})
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=full, timeout=60)


def deisctl(etcd, *args: str) -> str:
    return shlex.join([*deisctl_command(), "--endpoints", etcd.endpoints, *args])


@pytest.mark.parametrize("redirect", [">/dev/full", ">&-"], ids=["full", "closed"])
def test_a_write_whose_output_is_lost_still_exits_0_with_a_warning(etcd, redirect):
    out = shell(f"exec {deisctl(etcd, 'config', 'controller', 'set', 'workers=4')} {redirect}")
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("warning: the change was made, but its output could not be written")
    assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
    assert etcd.read("/deis/controller/workers") == "4"


@pytest.mark.parametrize("redirect", [">/dev/full", ">&-"], ids=["full", "closed"])
def test_a_read_whose_output_is_lost_fails_with_one_line(etcd, redirect):
    etcd.write("/deis/controller/workers", "4")
    for args in (("config", "controller", "get", "workers"), ("config", "schema"), ("--help",)):
        out = shell(f"exec {deisctl(etcd, *args)} {redirect}")
        assert out.returncode == 1, (args, out.stderr)
        assert out.stderr.startswith("error: cannot write the output") and len(out.stderr.splitlines()) == 1


def test_an_ascii_output_encoding_shows_escapes_and_the_apply_succeeds(etcd, tmp_path):
    doc = tmp_path / "s.yaml"
    doc.write_text("myapp:\n  motd: héllo → wörld\n", encoding="utf-8")
    out = shell(deisctl(etcd, "config", "apply", "-f", str(doc), "--new-component"), env={"PYTHONIOENCODING": "ascii"})
    assert out.returncode == 0, out.stderr
    assert "h\\xe9llo \\u2192 w\\xf6rld" in out.stdout
    assert etcd.read("/deis/myapp/motd") == "héllo → wörld"
