"""The README's first command (examples/demo.sh: the whole seed page) and the sample CI gate, run for real.

The demo runs on its own throwaway parts (etcd, sshd, a private dockerd with the Django/DRF
controller, or the same app on this machine with --runtime none). The config part's wording
follows deisctl; what is asserted here are the seed page's steps and the cleanup.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.sh"
DONE = re.compile(r"^# done in [\d.]+ s: stopped pids ([\d ]+); removed (.+)$", re.M)


def demo_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEISCTL_", "DEMO_"))}
    env.update(PYTHON=sys.executable, PIP_REQUIRE_VIRTUALENV="true", **extra)  # as a user runs it
    return env


def needs_sshd():
    if os.geteuid() != 0 or not os.path.exists("/usr/sbin/sshd"):
        pytest.skip("the demo's users part needs root and /usr/sbin/sshd (Debian package openssh-server)")


def assert_cleaned_up(out: str) -> None:
    """Every PID the demo started is gone; its dirs are removed; nothing runs from them."""
    done = DONE.search(out)
    assert done, out[-3000:]
    pids, dirs = [int(p) for p in done.group(1).split()], done.group(2).split()
    assert pids and dirs and "LEFT OVER" not in out
    for _ in range(50):  # the rig has stopped them before the line is printed; allow the kernel a moment
        alive = [p for p in pids if Path(f"/proc/{p}").exists() and "zombie" not in _state(p)]
        if not alive:
            break
        time.sleep(0.1)
    assert not alive, alive
    assert not [d for d in dirs if Path(d).exists()], dirs
    mounts = Path("/proc/self/mountinfo").read_text()
    users = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        users += [(proc.name, cmdline) for d in dirs if d in cmdline]
    assert not users, users  # e.g. a containerd or shim of the private engine
    assert not [d for d in dirs if f" {d}/" in mounts or f" {d} " in mounts]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return "zombie"


def assert_seed_page(out: str) -> str:
    """Promote, revoke, 401 for the old token, a new token, 200 with it. Returns the runtime used."""
    runtime = re.search(r"^# runtime (docker|none): ", out, re.M)
    assert runtime, out[-3000:]
    assert "\n$ deisctl users promote john\njohn: promoted to administrator\n" in out
    listing = out.split("$ deisctl users list\n", 1)[1]
    assert re.match(r"USERNAME +ADMIN +TOKEN +JOINED\nbob +no +yes .*\njohn +yes +yes ", listing), listing
    before, after = out.split("\n$ deisctl users revoke-token bob\nbob: token revoked\n", 1)
    old = re.findall(r"Authorization: Token (\w+)\.\.\.", before)[-1]
    assert before.rstrip().endswith('HTTP 200 {"user": "bob"}')  # the old token worked before
    calls = re.findall(r"Authorization: Token (\w+)\.\.\.'.*\n(HTTP \d+ .*)", after)
    new = re.search(r"^new token for bob: (\w+)\.\.\.$", after, re.M).group(1)
    assert calls == [(old, 'HTTP 401 {"detail": "Invalid token."}'), (new, 'HTTP 200 {"user": "bob"}')], after
    assert new != old
    return runtime.group(1)


def assert_config_part(out: str) -> None:
    assert re.search(r"^# throwaway etcd \S+ at http://127\.0\.0\.1:\d+ \(pid \d+\)$", out, re.M), out[:500]
    assert "$ deisctl config controller set registrationEnabled=0\n" in out
    assert "set secretKey=not-for-screens\nsecretKey=********\n" in out  # the echoed command holds it, nothing else
    assert out.count("not-for-screens") == 1
    assert "$ deisctl config controller get unitHostname\nerror: key not found" in out and "(exit code 3)" in out


def test_demo_runs_the_whole_seed_page_and_cleans_up():
    needs_sshd()
    proc = subprocess.run(["bash", str(DEMO)], capture_output=True, text=True, env=demo_env(), timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert_config_part(out)
    runtime = assert_seed_page(out)
    if runtime == "docker":
        assert "in container deis-controller of a private dockerd" in out
    else:  # no container engine here: the demo says why it fell back
        assert "no container engine could be started" in out
    assert_cleaned_up(out)


def test_demo_falls_back_to_runtime_none_and_says_so(tmp_path):
    needs_sshd()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dockerd").write_text("#!/bin/sh\necho 'no container engine on this machine' >&2\nexit 1\n")
    (fake / "dockerd").chmod(0o755)
    env = demo_env(PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(["bash", str(DEMO)], capture_output=True, text=True, env=env, timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert assert_seed_page(out) == "none"
    assert "# (no container engine could be started (dockerd exited with 1), so --runtime none)\n" in out
    assert "export DEISCTL_RUNTIME=none\n" in out
    assert_cleaned_up(out)


def test_demo_cleans_up_after_ctrl_c():
    needs_sshd()
    # Its own process group, as a command typed on a terminal.
    proc = subprocess.Popen(["bash", str(DEMO)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=demo_env(DEMO_RUNTIME="none"), start_new_session=True)
    out = ""
    try:
        for line in proc.stdout:  # until the controller is up and deisctl talks to it
            out += line
            if line.startswith("$ deisctl users promote john"):
                break
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        out += proc.stdout.read()
        assert proc.wait(timeout=60) == 130, out[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "# runtime none: " in out
    assert_cleaned_up(out)


def test_ci_config_gate_branches_on_exit_codes(etcd, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["DEISCTL_ENDPOINTS"] = etcd.endpoints
    bindir = Path(sys.executable).parent
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    gate = ["bash", str(ROOT / "examples" / "ci-config-gate.sh")]

    proc = subprocess.run(gate, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "FAIL controller/registrationEnabled is not set" in proc.stdout

    etcd.write("/deis/controller/registrationEnabled", "0")
    etcd.write("/deis/controller/webEnabled", "0")
    etcd.write("/deis/platform/domain", "deis.example.com")
    proc = subprocess.run(gate, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    env["DEISCTL_ENDPOINTS"] = "http://127.0.0.1:9"
    proc = subprocess.run(gate, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 75 and "SKIP etcd unreachable" in proc.stdout
