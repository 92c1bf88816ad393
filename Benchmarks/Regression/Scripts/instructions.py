#!/usr/bin/env python3
"""Instructions per operation of each hot piece, counted by callgrind, against instructions.json.

    instructions.py check  BINARY     exit 1 when a piece costs more than its baseline + tolerance
    instructions.py update BINARY     write the counts as the new baseline

A piece's count is (a run with N operations - a run with 0) / N, the setup cancelling out;
callgrind counts the same total for the same binary whatever else the machine does.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

PIECES = {"sigv4-sign": 500, "route-selection": 500, "payload-encoding": 500, "dispatch-message": 300, "dispatch-two-way": 300, "store-touch": 200, "connect-disconnect": 200}
TOLERANCE = 0.03  # 3%: a new branch or copy on the path shows; toolchain noise does not
BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "instructions.json")


def collected(binary, piece, count):
    with tempfile.TemporaryDirectory() as folder:
        # --fair-sched: Swift concurrency on NIO's threads hands work between threads; valgrind's
        # default lock can starve the one that would wake the other.
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--fair-sched=yes", f"--callgrind-out-file={folder}/out", binary, piece, str(count)],
            capture_output=True, text=True, timeout=600,
        )
        match = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode != 0 or not match:
            sys.exit(f"callgrind of {piece} {count} failed ({run.returncode}):\n{run.stderr[-2000:]}")
        return int(match.group(1))


def main():
    mode, binary = sys.argv[1], sys.argv[2]
    counts = {}
    for piece, count in PIECES.items():
        counts[piece] = round((collected(binary, piece, count) - collected(binary, piece, 0)) / count)
    if mode == "update":
        with open(BASELINE, "w") as file:
            json.dump(counts, file, indent=2, sort_keys=True)
            file.write("\n")
        for piece, value in counts.items():
            print(f"{piece:18} {value:10,} instructions per operation (stored)")
        return
    with open(BASELINE) as file:
        baseline = json.load(file)
    failed = False
    for piece, value in counts.items():
        before = baseline.get(piece)
        if before is None:
            print(f"{piece:18} {value:10,} instructions per operation: no baseline (run update)")
            failed = True
            continue
        ratio = value / before
        verdict = "REGRESSION" if ratio > 1 + TOLERANCE else ("improved: update the baseline" if ratio < 1 - TOLERANCE else "ok")
        failed = failed or ratio > 1 + TOLERANCE
        print(f"{piece:18} {value:10,} instructions per operation, baseline {before:10,}: {ratio:6.3f}  {verdict}")
    sys.exit(1 if failed else 0)


main()
