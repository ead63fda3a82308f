#!/usr/bin/env bash
# Sample CI gate for a deploy pipeline: refuse to go on unless the cluster's
# settings are what this environment expects. It branches on deisctl's
# documented exit codes instead of parsing messages:
#   0 ok · 2 bad input · 3 key missing · 4 etcd unreachable · 5 auth refused
# Usage: DEISCTL_ENDPOINTS=https://etcd-1:2379,https://etcd-2:2379 DEISCTL_CACERT=ca.pem ./ci-config-gate.sh
set -uo pipefail

expect() {  # expect COMPONENT KEY VALUE
  local got rc
  got=$(deisctl config "$1" get "$2")
  rc=$?
  case $rc in
    0) if [ "$got" != "$3" ]; then echo "FAIL $1/$2 is '$got', expected '$3'"; return 1; fi
       echo "ok   $1/$2 = $got" ;;
    3) echo "FAIL $1/$2 is not set"; return 1 ;;
    4) echo "SKIP etcd unreachable: infrastructure problem, not a config problem"; exit 75 ;;
    5) echo "FAIL credentials refused by etcd"; exit 77 ;;
    *) echo "FAIL deisctl exited $rc"; return 1 ;;
  esac
}

failed=0
expect controller registrationEnabled 0 || failed=1
expect controller webEnabled 0 || failed=1
expect platform domain "${EXPECTED_DOMAIN:-deis.example.com}" || failed=1
exit $failed
