#!/usr/bin/env bash
# Installs what vigil needs, builds it, and runs the agent on this host with
# the default rules (embedded in the binary), printing alerts as JSON lines.
# Extra arguments go to `vigil run` (e.g. -r my_rules.yaml).  Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
exec build/vigil run "$@"
