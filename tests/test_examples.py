"""The README's first command and the sample CI gate, run for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_script_runs_end_to_end_and_cleans_up():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["PYTHON"] = sys.executable
    proc = subprocess.run(["bash", str(ROOT / "examples" / "demo.sh")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "$ deisctl config controller set registrationEnabled=0\nwarning: controller/registrationEnabled=0 closes " \
           "registration on Deis < 1.6 only" in out
    assert "\nregistrationEnabled=0\n\n$ deisctl registration status" in out
    assert "CONTRADICTION: Deis >= 1.6 keeps registration OPEN" in out
    assert "$ deisctl registration disable\nregistration: disabled (registrationEnabled=0, " \
           "registrationMode=disabled)" in out
    assert "set secretKey=not-for-screens\nsecretKey=********\n" in out  # the echoed command holds it, nothing else
    assert out.count("not-for-screens") == 1
    assert "would crash it\n(exit code 2)" in out
    assert "error: key not found: /deis/controller/unitHostname\n(exit code 3)" in out
    work = next(line.split()[5] for line in out.splitlines() if line.startswith("# done: etcd stopped and"))
    assert not Path(work).exists()


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
