#!/usr/bin/env bash
# The README's test command. Installs what the tests need when it is missing
# (Debian packages: etcd, sshd, Docker engine, openssl, iproute2; the project with
# its test extras), then runs pytest. The test fixtures start and stop every
# server themselves (etcd, sshd, a private dockerd) on loopback or unix sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v dockerd >/dev/null || need+=(docker.io)
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing Debian packages: ${need[*]}" >&2
  $sudo apt-get update -qq
  # policy-rc.d: packages must not start their own etcd/sshd/docker services;
  # the tests start private instances on loopback.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  [ -z "$made_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
fi

$python -m pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
exec $python -m pytest "$@"
