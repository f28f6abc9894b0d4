#!/usr/bin/env bash
# LogOps beside its peers under the same load, in one run on one machine.
#
# Each system gets the same emit_json flood (100-record JSON-array batches of
# ~150 B records over CONNECTIONS keep-alive connections for DURATION seconds,
# seed 42) on an HTTP endpoint, writes what it accepts to files in a fresh temp
# dir, and is stopped with SIGTERM (each drains on SIGTERM). Records are counted
# on disk (one line per record), so a system is credited only with what it
# actually wrote. Printed per system: records/s on disk, latency p50/p99 (client
# side), peak RSS, CPU seconds per million records (user + system of the process,
# from /proc/<pid>/stat just before SIGTERM), and the ratio of its records/s to
# LogOps'. Peers are binaries the user names; none is installed by the project:
#
#   FLUENT_BIT=/path/to/fluent-bit   `http` input → `file` output (format plain:
#                                    one JSON record per line)
#   VECTOR=/path/to/vector           `http_server` source (json codec; an array
#                                    body becomes one event per element) → `file`
#                                    sink (json encoding, one event per line)
#
# A peer that is not given is reported as "not given"; one that fails to start
# as "failed" (its log is printed). Durability differs and is part of the
# result: LogOps acknowledges after fsync (LOGOPS_FSYNC=always, its default);
# Fluent Bit and Vector acknowledge once the records are in their memory buffer
# and write the files later, without fsync.
#
# Usage: [FLUENT_BIT=...] [VECTOR=...] tools/bench/compare.sh [DURATION_S=20] [CONNECTIONS=32]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DUR="${1:-20}"; CONN="${2:-32}"
BATCH=100

cd "$root"
cargo build --release -q -p logops-gateway -p logops-emitters
bin="$root/target/release"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "load:    emit_json --compact, ${CONN} connections, ${BATCH}-record batches, ${DUR} s per system, load generator on the same machine"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # port pid: until something accepts connections, or the process died
    for _ in $(seq 1 150); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

version_of() { # binary: the first line of its --version, or "?"
    local v; v="$({ "$1" --version 2>/dev/null || true; } | head -1)"
    echo "${v:-?}"
}

cpu_seconds() { # pid: user + system CPU seconds of the process (all threads)
    local rest; rest="$(sed 's/^.*) //' "/proc/$1/stat")"
    awk -v tck="$(getconf CLK_TCK)" '{printf "%.3f", ($12 + $13) / tck}' <<<"$rest"
}

results="$work/results.tsv"; : >"$results"

# run_system name version-string url start-command...: starts the command in
# the background (output dir "$out", log "$log" are set by the caller), floods
# it, stops it and appends a result line.
run_system() {
    local name="$1" version="$2" url="$3" port="$4"; shift 4
    "$@" >"$log" 2>&1 &
    local pid=$!
    if ! wait_port "$port" "$pid"; then
        echo; echo "$name did not start; its log:"; sed 's/^/    /' "$log" | tail -20
        kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
        printf '%s\tfailed\t%s\n' "$name" "$version" >>"$results"
        return 0
    fi
    "$bin/emit_json" --url "$url" --compact --concurrency "$CONN" --duration "${DUR}s" \
        --batch-size "$BATCH" --seed 42 >"$work/$name.summary.json" 2>"$work/$name.emitter.log" || true
    local hwm cpu
    hwm="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"
    cpu="$(cpu_seconds "$pid")"
    kill -TERM "$pid"; wait "$pid" || true
    python3 - "$name" "$version" "$work/$name.summary.json" "$out" "$(( hwm / 1024 ))" "$cpu" >>"$results" <<'PY'
import json, os, sys
name, version, summary, out, rss, cpu = sys.argv[1:]
try:
    s = json.loads(open(summary).read().strip().splitlines()[-1])
except Exception:
    print(f"{name}\tfailed\t{version}"); sys.exit()
lines = 0
for d, _, files in os.walk(out):
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            lines += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
el = s["elapsed_s"]
cpu_m = float(cpu) / lines * 1e6 if lines else float("nan")
print(f"{name}\tok\t{version}\t{lines}\t{lines/el:.0f}\t{s['latency_ms']['p50']:.2f}\t{s['latency_ms']['p99']:.2f}\t{rss}\t{cpu_m:.2f}\t{s['accepted']}")
PY
}

# LogOps: masking on, fsync=always (the defaults).
out="$work/logops"; log="$work/logops.log"; mkdir -p "$out"
port="$(free_port)"
run_system logops "logops-gateway $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "http://127.0.0.1:$port/v1/logs" "$port" \
    env -i PATH="$PATH" HOME="$HOME" LOGOPS_LISTEN="127.0.0.1:$port" LOGOPS_SINK_DIR="$out" \
    LOGOPS_LOG_LEVEL=warn LOGOPS_FSYNC=always "$bin/logops-gateway"

# Fluent Bit: http input → file output, as in its docs (classic config format).
if [ -n "${FLUENT_BIT:-}" ]; then
    out="$work/fluent-bit"; log="$work/fluent-bit.log"; mkdir -p "$out"
    port="$(free_port)"
    cat >"$work/fluent-bit.conf" <<EOF
[SERVICE]
    Flush        1
    Grace        10
    Log_Level    warn

[INPUT]
    Name         http
    Listen       127.0.0.1
    Port         $port

[OUTPUT]
    Name         file
    Match        *
    Path         $out
    File         out.ndjson
    Format       plain
EOF
    run_system fluent-bit "$(version_of "$FLUENT_BIT")" \
        "http://127.0.0.1:$port/v1/logs" "$port" "$FLUENT_BIT" -c "$work/fluent-bit.conf"
else
    printf 'fluent-bit\tnot given\tset FLUENT_BIT=/path/to/fluent-bit\n' >>"$results"
fi

# Vector: http_server source → file sink, as in its docs.
if [ -n "${VECTOR:-}" ]; then
    out="$work/vector"; log="$work/vector.log"; mkdir -p "$out" "$work/vector-data"
    port="$(free_port)"
    cat >"$work/vector.toml" <<EOF
data_dir = "$work/vector-data"

[sources.in]
type = "http_server"
address = "127.0.0.1:$port"
decoding.codec = "json"

[sinks.out]
type = "file"
inputs = ["in"]
path = "$out/out.ndjson"
encoding.codec = "json"
EOF
    run_system vector "$(version_of "$VECTOR")" \
        "http://127.0.0.1:$port/v1/logs" "$port" "$VECTOR" --quiet --config "$work/vector.toml"
else
    printf 'vector\tnot given\tset VECTOR=/path/to/vector\n' >>"$results"
fi

echo
python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if "\t" in l]
base = next((float(r[4]) for r in rows if r[0] == "logops" and r[1] == "ok"), None)
print(f"{'system':<12} {'records/s':>12} {'vs LogOps':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8} {'CPU s/M':>8}  version / notes")
for r in rows:
    name, status = r[0], r[1]
    if status != "ok":
        print(f"{name:<12} {status:>12} {'':>9} {'':>8} {'':>8} {'':>8} {'':>8}  {r[2] if len(r) > 2 else ''}")
        continue
    _, _, version, lines, rate, p50, p99, rss, cpu_m, acked = r
    ratio = f"{float(rate) / base:.2f}x" if base else "-"
    missing = int(acked) - int(lines)
    note = f"  ({missing:,} acknowledged records not on disk)" if missing > 0 else ""
    print(f"{name:<12} {float(rate):12,.0f} {ratio:>9} {float(p50):8.2f} {float(p99):8.2f} {rss:>8} {float(cpu_m):8.2f}  {version}{note}")
PY
