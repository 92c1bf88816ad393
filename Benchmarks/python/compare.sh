#!/usr/bin/env bash
# The Python package and ours side by side in one run, as API Gateway drives them: wrk sends
# each event with API Gateway's headers and the gateway secret; every reply is signed and posted
# to one @connections sink (`FanoutBenchmark sink`) by both.
#
#   Benchmarks/python/compare.sh            # DURATION=10 seconds a measurement by default
#
# The Python package: django-aws-api-gateway-websockets from PyPI in a venv of its own
# (.build/python-peer), gunicorn with 2 sync workers (one per core), SQLite in WAL mode, its
# WebSocketView with token and rate checks off, replies through boto3. Ours: `EventBenchmark
# --serve` (Vapor, SQLite, the same echo handler, replies through ManagementClient). Needs wrk
# (Debian: apt-get install wrk). Loopback only; every run is bounded by DURATION.
#
# Two-way too: the Python package's `echobody` answers in its response (what API Gateway sends
# back on a two-way route), and a second `EventBenchmark --serve --two-way` answers its `echo` there.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${DURATION:-10}"
PACKAGE="${PACKAGE:-django-aws-api-gateway-websockets==4.0.0}"
command -v wrk > /dev/null || { echo "needs wrk (apt-get install wrk)"; exit 2; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work="$(mktemp -d /tmp/apigw-compare.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== the Python package from PyPI: $PACKAGE"
python3 -m venv .build/python-peer
.build/python-peer/bin/pip install --quiet --disable-pip-version-check "$PACKAGE" gunicorn
.build/python-peer/bin/python -c 'import importlib.metadata as m; print("django-aws-api-gateway-websockets", m.version("django-aws-api-gateway-websockets"), "django", m.version("django"), "boto3", m.version("boto3"), "gunicorn", m.version("gunicorn"))'

echo "== ours, release"
for product in EventBenchmark FanoutBenchmark; do swift build -c release --product "$product" 2>&1 | tail -1; done

SINK_PORT="$(free_port)"; PY_PORT="$(free_port)"; SWIFT_PORT="$(free_port)"; TWO_WAY_PORT="$(free_port)"
SINK="http://127.0.0.1:$SINK_PORT"
.build/release/FanoutBenchmark sink --port "$SINK_PORT" --seconds 1800 --gone-every 0 > "$work/sink.log" 2>&1 & pids+=($!)

cp Benchmarks/python/peer/benchsite.py "$work/"
export BENCH_DIR="$work" BENCH_PORT="$PY_PORT" BENCH_SINK="$SINK" DJANGO_SETTINGS_MODULE=benchsite PYTHONPATH="$work"
.build/python-peer/bin/python -m django migrate -v 0
.build/python-peer/bin/python -c '
import django; django.setup()
from django_aws_api_gateway_websockets.models import ApiGateway
ApiGateway.objects.create(api_name="bench", api_id="chatlocal", stage_name="local", target_base_endpoint="http://127.0.0.1/ws/")'
(cd "$work" && exec "$OLDPWD/.build/python-peer/bin/gunicorn" -w 2 -b "127.0.0.1:$PY_PORT" --log-level warning benchsite:application) \
    > "$work/gunicorn.log" 2>&1 & pids+=($!)
.build/release/EventBenchmark --serve "$SWIFT_PORT" --sink "$SINK" --seconds 1800 > "$work/swift.log" 2>&1 & pids+=($!)
.build/release/EventBenchmark --serve "$TWO_WAY_PORT" --sink "$SINK" --seconds 1800 --two-way > "$work/swift-two-way.log" 2>&1 & pids+=($!)
for port in "$PY_PORT" "$SWIFT_PORT" "$TWO_WAY_PORT"; do
    up=""
    for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$port/" && up=1 && break; sleep 0.2; done
    [ -n "$up" ] || { echo "nothing listens on :$port; logs:"; tail -20 "$work"/*.log; exit 1; }
done

SECRET="local-development-secret"
# One measurement: prints "events/s p50_ms p99_ms requests errors".
measure() {  # target port mode connections seconds [action]
    local line
    line="$(wrk -t2 -c"$4" -d"$5"s --latency -s "${EVENTS_LUA:-Benchmarks/python/peer/events.lua}" "http://127.0.0.1:$2" -- "$3" chatlocal "$SECRET" "$2" "${6:-echo}" | tee -a "$work/wrk.out" | grep "^RESULT" || true)"; [ -n "${EVENTS_LUA:-}" ] && grep -v "^RESULT\|^ \|Running\|Thread\|Latency\|Req\|Requests\|Transfer\|requests in\|Socket\|Non-2xx" "$work/wrk.out" | sort | uniq -c | head -5 >&2; : > "$work/wrk.out"
    if [ -z "$line" ]; then echo "wrk against $1 ($3) gave no result; logs:" >&2; tail -5 "$work"/*.log >&2; exit 1; fi
    python3 - "$line" << 'PY'
import re, sys
f = dict(re.findall(r"(\w+)=([\d.]+)", sys.argv[1]))
print(f"{float(f['requests']) / float(f['seconds']):.0f} {int(f['p50_us']) / 1000:.2f} {int(f['p99_us']) / 1000:.2f} {f['requests']} {f['errors']}")
PY
}

results="$work/results"
: > "$results"
for target in python swift; do
    port="$PY_PORT"; [ "$target" = swift ] && port="$SWIFT_PORT"
    echo "== $target on :$port"
    echo "$target connect-8 $(measure "$target" "$port" connect 8 "$DURATION")" | tee -a "$results"
    echo "$target message-8 $(measure "$target" "$port" message 8 "$DURATION")" | tee -a "$results"
    echo "$target message-64 $(measure "$target" "$port" message 64 "$DURATION")" | tee -a "$results"
    echo "$target disconnect-8 $(measure "$target" "$port" disconnect 8 $((DURATION / 2)))" | tee -a "$results"
done
# Two-way: the answer is the response's body, no post. The two-way server's sessions first.
echo "== two-way: python's echobody on :$PY_PORT, ours --two-way on :$TWO_WAY_PORT"
measure swift "$TWO_WAY_PORT" connect 8 "$DURATION" > /dev/null
for clients in 8 64; do
    echo "python twoway-$clients $(measure python "$PY_PORT" message "$clients" "$DURATION" echobody)" | tee -a "$results"
    echo "swift twoway-$clients $(measure swift "$TWO_WAY_PORT" message "$clients" "$DURATION")" | tee -a "$results"
done
# Ours beside its ceiling: the same requests to a handler that does nothing.
echo "ceiling bare-8 $(measure swift "$SWIFT_PORT" bare 8 "$DURATION")" | tee -a "$results"
echo "ceiling bare-64 $(measure swift "$SWIFT_PORT" bare 64 "$DURATION")" | tee -a "$results"

if grep -q "Error" "$work/gunicorn.log"; then
    echo "== the Python package's failed events, by exception:"
    grep -E "^[A-Za-z_.]+(Error|Exception): " "$work/gunicorn.log" | sort | uniq -c | sort -rn | head -5
fi
echo
echo "| work | Python package (gunicorn, 2 sync workers, SQLite WAL) | ours (Vapor, SQLite) | ours / Python |"
echo "| --- | --- | --- | --- |"
python3 - "$results" << 'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    target, work, rate, p50, p99, requests, errors = line.split()
    rows.setdefault(work, {})[target] = (float(rate), float(p50), float(p99), int(requests), int(errors))
names = {"connect-8": "connect, 8 clients", "message-8": "message with a reply posted, 8 clients",
         "message-64": "message with a reply posted, 64 clients", "disconnect-8": "disconnect, 8 clients",
         "twoway-8": "message answered in the response (two-way), 8 clients",
         "twoway-64": "message answered in the response (two-way), 64 clients"}
cell = lambda r: f"{r[0]:,.0f}/s, p50 {r[1]} ms, p99 {r[2]} ms" + (f" ({r[4]} errors of {r[3]})" if r[4] else "")
for work, name in names.items():
    py, sw = rows[work]["python"], rows[work]["swift"]
    print(f"| {name} | {cell(py)} | {cell(sw)} | {sw[0] / py[0]:.1f}× |")
print()
print("| ours two-way against the Python package posting its reply | Python, reply posted | ours, two-way | ratio |")
print("| --- | --- | --- | --- |")
for clients in ("8", "64"):
    py, sw = rows[f"message-{clients}"]["python"], rows[f"twoway-{clients}"]["swift"]
    print(f"| {clients} clients | {cell(py)} | {cell(sw)} | {sw[0] / py[0]:.1f}× |")
print()
print("| ours against its bare handler (the same requests, nothing done) | bare handler | event | fraction of the ceiling |")
print("| --- | --- | --- | --- |")
for clients in ("8", "64"):
    bare, event = rows[f"bare-{clients}"]["ceiling"], rows[f"message-{clients}"]["swift"]
    print(f"| message with a reply posted, {clients} clients | {cell(bare)} | {cell(event)} | {event[0] / bare[0]:.2f} |")
PY
