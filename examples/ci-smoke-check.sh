#!/usr/bin/env bash
# CI smoke check of a Deis cluster, branching on deisctl's exit codes (not on messages):
#   1. `deisctl check`: every endpoint answers and names the same leader, the cluster has a
#      leader, platform/domain is set and valid, the controller's heartbeat key is there
#      (with CHECK_CONTROLLER=1 also: SSH to the controller's node works, its container runs);
#   2. `deisctl config diff`: the cluster's settings match the document kept in git.
#
# Usage:
#   DEISCTL_CONTEXT=staging SETTINGS=deis-settings.yaml ./ci-smoke-check.sh
#   (or DEISCTL_ENDPOINTS=https://etcd-1:2379,... DEISCTL_CACERT=ca.pem ...)
#   SETTINGS defaults to deis-settings.yaml (- reads standard input); SETTINGS= (empty) skips
#   step 2 on purpose.
#   A settings file that does not exist fails the gate (a typo or a moved file must not
#   turn the drift check off silently).
#
# Exit: 0 healthy and in sync · 1 a check failed or the settings drifted · 75 etcd
# unreachable (an infrastructure problem: let CI retry) · 77 credentials refused ·
# 2 usage/input error (a missing or bad settings document, a bad option).
set -uo pipefail

deisctl=${DEISCTL:-deisctl}
settings=${SETTINGS-deis-settings.yaml}
# Input errors first, before the cluster is asked anything.
if [ -n "$settings" ] && [ "$settings" != - ] && [ ! -f "$settings" ]; then
  echo "FAIL settings file $settings does not exist (set SETTINGS to the document kept in git)"
  exit 2
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT

controller=()
[ "${CHECK_CONTROLLER:-0}" = 1 ] && controller=(--controller)

"$deisctl" check "${controller[@]}" -o json >"$report"
rc=$?
case $rc in
  0) echo "ok   cluster checks" ;;
  1) echo "FAIL cluster checks:"
     # One line per failed check, from the JSON list of {check, ok, detail}.
     python3 -c 'import json, sys
for row in json.load(open(sys.argv[1])):
    if not row["ok"]:
        print("     - %s: %s" % (row["check"], row["detail"]))' "$report"
     exit 1 ;;
  4) echo "SKIP etcd unreachable: infrastructure problem, not a cluster-settings problem"; exit 75 ;;
  5) echo "FAIL credentials refused by etcd or the node"; exit 77 ;;
  *) echo "FAIL deisctl check exited $rc"; exit 2 ;;
esac

if [ -n "$settings" ]; then
  "$deisctl" config diff -f "$settings"
  rc=$?
  case $rc in
    0) echo "ok   settings match $settings" ;;
    1) echo "FAIL settings drifted from $settings (the diff above: - etcd, + file)"; exit 1 ;;
    4) echo "SKIP etcd unreachable"; exit 75 ;;
    5) echo "FAIL credentials refused by etcd"; exit 77 ;;
    *) echo "FAIL deisctl config diff exited $rc"; exit 2 ;;
  esac
else
  echo "skip settings diff: SETTINGS is empty"
fi
