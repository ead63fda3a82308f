#!/usr/bin/env bash
# Regenerates the locks (pip constraints files) that scripts/venv.sh installs under:
#   constraints/newest.txt  every runtime and test dependency, transitive ones included, as pip
#                           resolves pyproject.toml's ranges today: what a new user gets.
#   constraints/lowest.txt  each direct dependency at the lower bound of its range; the others as
#                           pip resolves them against those pins.
# Each set is installed into a fresh temp venv (made with ${PYTHON:-python3}; Python 3.11 is the
# target), its packages are imported and its tools run, then `pip freeze` writes the lock.
# Run it after changing a range in pyproject.toml; the next scripts/test.sh then remakes its venv.
#   bash scripts/lock.sh NAME   (with PYTHON=... another interpreter) resolves only the newest set
#                               for that Python into constraints/NAME.txt: py310, py313, the other
#                               ends of the Pythons deisctl claims, which .ci/run tests too.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
deisctl_find_python
deisctl_venv_support "$deisctl_base"
work=$(mktemp -d "${TMPDIR:-/tmp}/deisctl-lock.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p constraints

resolve() {  # NAME WHAT [PIP_ARGS...]: install .[test] in a temp venv, check it, freeze it
  local name=$1 what=$2 venv=$work/$1
  shift 2
  echo "# resolving $name" >&2
  "$deisctl_base" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" \
    -e '.[test]' --config-settings editable_mode=compat
  # Every dependency imports and its tools start (cslab-etcd3 loads its protobuf code on import).
  "$venv/bin/python" -W ignore -c 'import click, etcd3, grpc, yaml, paramiko, pytest, testcontainers.core.container, django, rest_framework'
  local tool out
  for tool in pytest ansible-playbook; do
    out=$("$venv/bin/$tool" --version 2>&1) || { echo "$out" >&2; echo "error: $tool does not start in the $name set" >&2; return 1; }
  done
  {
    echo "# constraints/$name.txt: written by scripts/lock.sh, do not edit."
    echo "# $what"
    echo "# Resolved on $("$venv/bin/python" -c 'import platform; print(platform.python_implementation(), platform.python_version(), platform.system(), platform.machine())')" \
         "with $("$venv/bin/python" -m pip --version | cut -d' ' -f1-2), $(date -u +%Y-%m-%d)."
    "$venv/bin/python" -m pip freeze --exclude-editable | LC_ALL=C sort -f
  } >"$work/$name.txt"
}

if [ $# -gt 0 ]; then
  [[ $1 =~ ^py3[0-9]+$ ]] || { echo "error: NAME is py3XX, e.g. py313" >&2; exit 2; }
  resolve "$1" "pyproject.toml's ranges, resolved to the newest versions they allow on this Python."
  mv "$work/$1.txt" "constraints/$1.txt"
  echo "# wrote constraints/$1.txt" >&2
  exit 0
fi
# The lower bound (">=X") of every requirement in [project] dependencies and the test extra.
"$deisctl_base" - >"$work/lower-bounds.txt" <<'PY'
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for req in project["dependencies"] + project["optional-dependencies"]["test"]:
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req).group(1)
    low = re.search(r">=\s*([^,;\s]+)", req)
    if not low:
        sys.exit(f"error: {req!r} in pyproject.toml has no lower bound")
    print(f"{name}=={low.group(1)}")
PY

resolve newest "pyproject.toml's ranges, resolved to the newest versions they allow."
resolve lowest "Direct dependencies at the lower bounds of pyproject.toml's ranges; the others resolved against them." \
  -c "$work/lower-bounds.txt"
# Every direct dependency really is at its lower bound (none was overridden by another constraint).
"$deisctl_base" - "$work/lower-bounds.txt" "$work/lowest.txt" <<'PY'
import re, sys
def pins(path):  # {normalized name: version without trailing .0s}
    lines = [l.strip().split("==") for l in open(path) if "==" in l and not l.startswith("#")]
    return {re.sub(r"[-_.]+", "-", n).lower(): re.sub(r"(\.0+)+$", "", v) for n, v in lines}
want, got = pins(sys.argv[1]), pins(sys.argv[2])
bad = [f"{n}: {got.get(n)} instead of {v}" for n, v in want.items() if got.get(n) != v]
if bad:
    sys.exit("error: lowest set is not at the lower bounds: " + "; ".join(bad))
PY
mv "$work/newest.txt" constraints/newest.txt
mv "$work/lowest.txt" constraints/lowest.txt
git --no-pager diff --stat -- constraints/ 2>/dev/null || true
echo "# wrote constraints/newest.txt and constraints/lowest.txt" >&2
