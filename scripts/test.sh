#!/usr/bin/env bash
# The README's test command. Installs what the tests need when it is missing
# (Debian packages: etcd, sshd, Docker engine, openssl, iproute2, zsh and fish, debootstrap and
# PostgreSQL for the Deis-era controller, and python3-venv when the Python cannot
# make a venv), makes or reuses the project's venv
# (scripts/venv.sh: .venv/ with constraints/newest.txt; DEISCTL_LOCK=lowest:
# .venv-lowest/ with constraints/lowest.txt), then runs pytest from it with its
# bin/ first on PATH (DEISCTL_TEST_LOAD=N: with N busy loops beside it). The test fixtures start
# and stop every server themselves
# (etcd, sshd, a private dockerd) on loopback or unix sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
deisctl_find_python

need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v dockerd >/dev/null || need+=(docker.io)
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v debootstrap >/dev/null || need+=(debootstrap)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
if ! "$deisctl_base" -c 'import ensurepip, venv' 2>/dev/null && deisctl_debian_python "$deisctl_base"; then
  need+=(python3-venv)
fi
if ((${#need[@]})); then
  deisctl_apt_install "${need[@]}"
fi

deisctl_venv
export VIRTUAL_ENV=$DEISCTL_VENV PATH="$DEISCTL_VENV/bin:$PATH"
# DEISCTL_TEST_LOAD=N: N busy loops keep the cores busy for the whole run (a loaded CI runner:
# a diagnosis or a test that races a deadline shows it here), stopped by PID at the end.
load=${DEISCTL_TEST_LOAD:-0}
if ! [[ $load =~ ^[0-9]+$ ]]; then
  echo "error: DEISCTL_TEST_LOAD must be a number of busy loops, got '$load'" >&2
  exit 2
fi
if ((load == 0)); then
  exec "$DEISCTL_VENV/bin/python" -m pytest "$@"
fi
busy=()
stop_load() {
  if ((${#busy[@]})); then
    kill "${busy[@]}" 2>/dev/null || true
    wait "${busy[@]}" 2>/dev/null || true
  fi
  busy=()
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM
for ((i = 0; i < load; i++)); do
  sh -c 'while :; do :; done' &
  busy+=($!)
done
echo "test load: ${#busy[@]} busy loop(s), pids ${busy[*]}" >&2
started=$SECONDS
status=0
"$DEISCTL_VENV/bin/python" -m pytest "$@" || status=$?
echo "test load: the suite took $((SECONDS - started)) s with ${#busy[@]} busy loop(s)" >&2
exit "$status"
