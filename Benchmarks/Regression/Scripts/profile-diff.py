#!/usr/bin/env python3
"""Per-operation instruction profile of a hot path: the callgrind profile of a run with N
operations minus the one with 0, by function (inclusive), divided by N.

    profile-diff.py BASE.callgrind RUN.callgrind N [TOP]
"""
import re
import subprocess
import sys


def inclusive(path):
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True, text=True, check=True
    ).stdout
    costs = {}
    for line in text.splitlines():
        match = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)", line)
        if match and "PROGRAM TOTALS" not in line:
            name = re.sub(r"^\S*:", "", match.group(2).split(" [")[0], count=1)
            costs[name] = costs.get(name, 0) + int(match.group(1).replace(",", ""))
    return costs


def main():
    base, run, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    before, after = inclusive(base), inclusive(run)
    rows = sorted(((after[name] - before.get(name, 0)) / count, name) for name in after)
    rows = [row for row in rows if row[0] > 0][::-1][:top]
    names = subprocess.run(
        ["swift", "demangle", "--simplified"], input="\n".join(name for _, name in rows), capture_output=True, text=True
    ).stdout.splitlines()
    for (cost, _), name in zip(rows, names):
        print(f"{cost:12,.0f}  {name[:150]}")


main()
