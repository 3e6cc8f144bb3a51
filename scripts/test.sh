#!/usr/bin/env bash
# The whole test suite: installs and builds (scripts/setup.sh), then runs
# every unit and integration test through CTest. Integration tests create
# their own network namespaces and veth pairs, so run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure --timeout 300 "$@"
