#!/usr/bin/env bash
# Configures and builds one build tree: scripts/build.sh DIR [cmake options...]
# Warnings are errors here (VIGIL_WERROR=ON; VIGIL_WERROR=OFF in the
# environment turns that off); BUILD_TYPE picks the CMake build type.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1; shift
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DVIGIL_WERROR="${VIGIL_WERROR:-ON}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
