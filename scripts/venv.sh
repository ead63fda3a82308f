# shellcheck shell=bash
# The project's virtual environment, shared by scripts/test.sh, examples/demo.sh,
# scripts/lock.sh and scripts/compat_probe.sh. Nothing is ever pip-installed into
# the machine's own Python.
#
#   source scripts/venv.sh && deisctl_venv   # then "$DEISCTL_VENV/bin/python", "$DEISCTL_VENV/bin/deisctl"
#   bash scripts/venv.sh                      # the same; prints the venv's path
#
# DEISCTL_LOCK   newest (default) -> .venv/ with constraints/newest.txt
#                NAME             -> .venv-NAME/ with constraints/NAME.txt (lowest: the lower bounds)
#                Unset while PYTHON is the python of one of this checkout's venvs (the tests run
#                examples/demo.sh that way): that venv and its lock.
# PYTHON         the interpreter the venv is made from (default python3); a venv's python stands
#                for the interpreter it was made from.
#
# The venv holds deisctl editable with its test extras, installed under the lock:
#   pip install -c constraints/NAME.txt -e '.[test]' --config-settings editable_mode=compat
# It is reused while pyproject.toml, the lock and the Python are unchanged (the stamp file
# .deisctl-stamp inside it); otherwise it is deleted and made again.

deisctl_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Debian packages, without letting their services start (the tests and the demo start
# private etcd/sshd/dockerd instances on loopback).
deisctl_apt_install() {
  local sudo="" made_policy="" rc=0
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing Debian packages: $*" >&2
  $sudo apt-get update -qq || return
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null || rc=$?
  [ -z "$made_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
  return "$rc"
}

# Sets deisctl_base (the interpreter behind ${PYTHON:-python3}, outside any venv) and
# deisctl_prefix (sys.prefix of ${PYTHON:-python3}, symlinks resolved).
deisctl_find_python() {
  local py=${PYTHON:-python3} out
  if ! command -v "$py" >/dev/null; then
    echo "error: no Python interpreter '$py' (set PYTHON)" >&2
    return 1
  fi
  out=$("$py" -c '
import os, sys
base = sys.executable
if sys.prefix != sys.base_prefix:  # a venv: the interpreter it was made from
    base = getattr(sys, "_base_executable", "") or ""
    if not os.path.exists(base):
        base = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
print(base)
print(os.path.realpath(sys.prefix))
') || return
  deisctl_base=${out%%$'\n'*}
  deisctl_prefix=${out#*$'\n'}
}

deisctl_debian_python() {  # PYTHON_EXE: true when Debian's package manager owns it
  local exe
  exe=$("$1" -c 'import os, sys; print(os.path.realpath(sys.executable))') || return
  command -v apt-get >/dev/null && dpkg -S "$exe" >/dev/null 2>&1
}

# `python -m venv` needs ensurepip, which Debian ships apart (python3-venv).
deisctl_venv_support() {  # PYTHON_EXE
  "$1" -c 'import ensurepip, venv' 2>/dev/null && return 0
  if deisctl_debian_python "$1"; then
    deisctl_apt_install python3-venv || true
    "$1" -c 'import ensurepip, venv' 2>/dev/null && return 0
  fi
  echo "error: $1 cannot make a virtual environment (no ensurepip); on Debian/Ubuntu: apt-get install python3-venv" >&2
  return 1
}

deisctl_stamp() {  # PYTHON_EXE LOCK_FILE: what the venv was made from
  "$1" - "$deisctl_root/pyproject.toml" "$2" <<'PY'
import hashlib, os, platform, sys
print("deisctl venv 1")  # bump when the way the venv is made changes
print("python", platform.python_version(), os.path.realpath(sys.executable))
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        print(os.path.basename(path), hashlib.sha256(f.read()).hexdigest())
PY
}

# Makes or reuses the venv; sets DEISCTL_VENV (its path) and DEISCTL_VENV_LOCK (the lock file),
# shell variables, not exported.
deisctl_venv() {
  local deisctl_base deisctl_prefix name venv lock want fd=""
  deisctl_find_python || return
  name=${DEISCTL_LOCK:-}
  if [ -z "$name" ]; then
    case $deisctl_prefix in
      "$deisctl_root/.venv") name=newest ;;
      "$deisctl_root/.venv-"*) name=${deisctl_prefix#"$deisctl_root/.venv-"} ;;
      *) name=newest ;;
    esac
  fi
  lock=$deisctl_root/constraints/$name.txt
  if [[ ! $name =~ ^[a-z0-9][a-z0-9_-]*$ ]] || [ ! -f "$lock" ]; then
    echo "error: no lock file constraints/$name.txt (DEISCTL_LOCK=newest|lowest)" >&2
    return 1
  fi
  if [ "$name" = newest ]; then venv=$deisctl_root/.venv; else venv=$deisctl_root/.venv-$name; fi

  # One bootstrap at a time in this checkout (the lock is released before returning).
  if command -v flock >/dev/null; then
    exec {fd}<"$deisctl_root"
    flock "$fd"
  fi
  local rc=0
  _deisctl_venv_make || rc=$?
  [ -z "$fd" ] || exec {fd}<&-
  return "$rc"
}

# shellcheck disable=SC2034  # DEISCTL_VENV_LOCK: for the scripts that source this file
_deisctl_venv_make() {  # uses deisctl_venv's locals
  deisctl_venv_support "$deisctl_base" || return
  want=$(deisctl_stamp "$deisctl_base" "$lock") || return
  if [ -f "$venv/.deisctl-stamp" ] && [ "$(cat "$venv/.deisctl-stamp")" = "$want" ] \
     && "$venv/bin/python" -c '' 2>/dev/null; then
    DEISCTL_VENV=$venv DEISCTL_VENV_LOCK=$lock
    return 0
  fi
  if [ -e "$venv" ]; then
    echo "# remaking ${venv##*/}/ (pyproject.toml, constraints/$name.txt or the Python changed)" >&2
  else
    echo "# making ${venv##*/}/ with $deisctl_base and constraints/$name.txt" >&2
  fi
  rm -rf "$venv"
  "$deisctl_base" -m venv "$venv" || return
  (cd "$deisctl_root" && "$venv/bin/python" -m pip install -q --disable-pip-version-check \
     -c "$lock" -e '.[test]' --config-settings editable_mode=compat) || return
  printf '%s\n' "$want" >"$venv/.deisctl-stamp"
  DEISCTL_VENV=$venv DEISCTL_VENV_LOCK=$lock
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # executed, not sourced
  set -euo pipefail
  deisctl_venv
  echo "$DEISCTL_VENV"
fi
