#!/usr/bin/env bash
# Compatibility probe, run by .ci/run after the tests. Installs deisctl (non-editable, a wheel
# built from a clean copy of the checkout) into two throwaway venvs:
#   lowest  under constraints/lowest.txt (each direct dependency at its lower bound)
#   newest  with no constraints: what pip resolves for a new user today
# and runs a fixed set of server-less calls of the installed `deisctl` executable, with no
# DEISCTL_* variables and DEISCTL_CONFIG naming a missing file. Each call must give help on
# stdout and exit 0, or exactly one stderr line `error: ...` and exit 2 (some cases only the
# latter, some with deisctl's exact words); `--version` prints `deisctl VERSION`; completion
# follows Click's protocol; nothing ever shows a traceback.
# Prints one line per case and the click version of each env; exits 1 when anything failed.
# Uses pip's cache; takes well under a minute with a warm cache.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
deisctl_find_python
deisctl_venv_support "$deisctl_base"
unset PIP_CONSTRAINT  # "newest" means no constraints at all
start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/deisctl-probe.XXXXXX")
trap 'rm -rf "$work"' EXIT
pip_q=(-q --disable-pip-version-check)

# A clean copy of the checkout (tracked and unignored files): an in-tree build could pick up
# stale modules from build/.
mkdir "$work/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$work/src" -xf -
else
  tar --exclude=./.git --exclude='./.venv*' --exclude=./build --exclude='*.egg-info' -cf - . | tar -C "$work/src" -xf -
fi

echo "# probe: building the deisctl wheel" >&2
"$deisctl_base" -m venv "$work/lowest"
"$work/lowest/bin/python" -m pip wheel "${pip_q[@]}" --no-deps -w "$work/dist" "$work/src" >"$work/wheel.log" 2>&1 ||
  { cat "$work/wheel.log" >&2; echo "error: could not build the deisctl wheel" >&2; exit 1; }
wheel=$(echo "$work"/dist/deisctl-*.whl)

echo "# probe: installing the lowest and the newest dependency sets" >&2
declare -A pid
( "$work/lowest/bin/python" -m pip install "${pip_q[@]}" -c constraints/lowest.txt "$wheel" ) >"$work/lowest.log" 2>&1 &
pid[lowest]=$!
( "$deisctl_base" -m venv "$work/newest" && "$work/newest/bin/python" -m pip install "${pip_q[@]}" "$wheel" ) >"$work/newest.log" 2>&1 &
pid[newest]=$!
envs=()
for env in lowest newest; do
  if wait "${pid[$env]}"; then
    envs+=("$env")
  else
    grep -v "^WARNING: Location '" "$work/$env.log" >&2 || true
    echo "$env  (install)  FAIL  could not install deisctl in the $env env"
  fi
done

failed=$((2 - ${#envs[@]}))
for env in "${envs[@]}"; do
  "$work/$env/bin/python" - "$env" "$work/$env/bin/deisctl" "$work/no-such-config.yaml" <<'PY' || failed=$((failed + 1))
"""The probe's cases, run with the env's own interpreter against its installed executable."""
import os, platform, subprocess, sys
from importlib.metadata import version

env_name, exe, config = sys.argv[1:]
deisctl_version = version("deisctl")
print(f"{env_name}: click {version('click')} (deisctl {deisctl_version}, cslab-etcd3 {version('cslab-etcd3')}, "
      f"grpcio {version('grpcio')}, Python {platform.python_version()})")

base_env = {k: v for k, v in os.environ.items()
            if not k.startswith("DEISCTL_") and k not in ("_DEISCTL_COMPLETE", "COMP_WORDS", "COMP_CWORD")}
base_env["DEISCTL_CONFIG"] = config
HELP, ERROR = "help", "error"

# name, argv, accepted outcomes, exact error line or None, text the error line must contain or None, extra env
CASES = [
    ("bare", [], {HELP, ERROR}, None, None, {}),
    ("bare config", ["config"], {HELP, ERROR}, None, None, {}),
    ("unknown option -x", ["config", "-x", "set", "a=1"], {ERROR}, None, None, {}),
    ("unknown option --bogus", ["config", "controller", "get", "--bogus"], {ERROR},
     "error: no such option: --bogus (see 'deisctl config controller get --help')", None, {}),
    ("global option after command", ["config", "controller", "get", "--endpoints", "http://127.0.0.1:9"], {ERROR},
     None, "--endpoints is a global option", {}),
    ("missing argument", ["config", "controller", "set"], {HELP, ERROR}, None, None, {}),
    ("--version", ["--version"], {"version"}, None, None, {}),
    ("--show-completion bash", ["--show-completion", "bash"], {"script"}, None, None, {}),
    ("complete component", [], {"complete"}, None, None,
     {"_DEISCTL_COMPLETE": "bash_complete", "COMP_WORDS": "deisctl config contr", "COMP_CWORD": "2"}),
]


def judge(outcomes, exact, contains, rc, out, err):
    """None when the call is as it must be, else why not."""
    if "Traceback" in out or "Traceback" in err:
        return "a traceback"
    why = []
    if HELP in outcomes:
        if rc == 0 and "usage" in out.lower() and not err:
            return None
        why.append("not help on stdout with exit 0 and an empty stderr")
    if ERROR in outcomes:
        lines = err.splitlines()
        if rc != 2 or out or len(lines) != 1 or not lines[0].startswith("error: "):
            why.append("not exactly one stderr line 'error: ...' with exit 2 and an empty stdout")
        elif exact is not None and lines[0] != exact:
            why.append(f"the error line is not {exact!r}")
        elif contains is not None and contains not in lines[0]:
            why.append(f"the error line does not contain {contains!r}")
        else:
            return None
    if "version" in outcomes:
        if rc == 0 and out == f"deisctl {deisctl_version}\n" and not err:
            return None
        why.append(f"not 'deisctl {deisctl_version}' on stdout with exit 0")
    if "script" in outcomes:
        if rc != 0 or err or "_DEISCTL_COMPLETE" not in out:
            why.append("not a bash completion script using _DEISCTL_COMPLETE on stdout with exit 0")
        elif subprocess.run(["bash", "-n"], input=out, text=True, capture_output=True).returncode != 0:
            why.append("the completion script is not valid bash")
        else:
            return None
    if "complete" in outcomes:
        values = [line.split(",", 1)[-1] for line in out.splitlines()]
        if rc == 0 and not err and "controller" in values:
            return None
        why.append("'controller' not offered (Click's bash_complete format: TYPE,VALUE lines) with exit 0")
    return "; ".join(why)


failures = 0
for name, argv, outcomes, exact, contains, extra in CASES:
    try:
        proc = subprocess.run([exe, *argv], env={**base_env, **extra}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
        why = judge(outcomes, exact, contains, rc, out, err)
    except subprocess.TimeoutExpired as exc:
        rc, out, err, why = "-", "", str(exc), "timed out"
    first = next((line for line in (out + err).splitlines() if line.strip()), "(no output)")
    print(f"{env_name:<7} {name:<28} {'FAIL' if why else 'PASS'}  exit {rc:<3} {first[:110]}")
    if why:
        failures += 1
        print(f"        why: {why}; {' '.join(['deisctl', *argv])}"
              + "".join(f" [{k}={v}]" for k, v in extra.items()))
        for label, text in (("stdout", out), ("stderr", err)):
            lines = text.splitlines()
            if len(lines) > 12:  # a traceback's end says what went wrong
                lines = lines[:6] + [f"... ({len(lines) - 12} lines)"] + lines[-6:]
            for line in lines:
                print(f"        {label}| {line}")
print(f"{env_name}: {len(CASES) - failures} of {len(CASES)} cases passed")
sys.stdout.flush()
sys.exit(1 if failures else 0)
PY
done

echo "# probe: ${#envs[@]} env(s) probed, $failed with failures, $((SECONDS - start)) s" >&2
[ "$failed" = 0 ]
