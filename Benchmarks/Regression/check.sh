#!/usr/bin/env bash
# The hot pieces against their stored baselines: instructions per operation (callgrind, against
# instructions.json) and allocations (package-benchmark, against Thresholds/).
#
#   Benchmarks/Regression/check.sh            # exit 1 when either regresses past its tolerance
#   Benchmarks/Regression/check.sh update     # measure and store both as the new baselines
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-check}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

swift build -c release --product HotPathsCount
# valgrind 3.19 cannot read the DWARF 5 the toolchain writes: count a copy without it.
objcopy --strip-debug .build/release/HotPathsCount "$scratch/HotPathsCount"

if [ "$mode" = update ]; then
    python3 Scripts/instructions.py update "$scratch/HotPathsCount"
    swift package --allow-writing-to-package-directory benchmark thresholds update --no-progress
    exit 0
fi

status=0
python3 Scripts/instructions.py check "$scratch/HotPathsCount" || status=1
# package-benchmark: 0 equal, 2 a regression, 4 improvements only (not a failure).
set +e
swift package benchmark thresholds check --no-progress
allocations=$?
set -e
if [ "$allocations" -ne 0 ] && [ "$allocations" -ne 4 ]; then status=1; fi
exit "$status"
