#!/usr/bin/env bash
# End-to-end benchmark of the release gateway, driven by the emitters' flood mode
# on the same machine. For each configuration: start logops-gateway on a fresh temp
# sink, flood it for DURATION seconds over CONNECTIONS keep-alive connections with
# 100-record batches, stop it (SIGTERM: drains and syncs), count the lines on disk,
# and print records/s (on disk), MiB/s, latency p50/p99 (client side), the
# gateway's peak RSS (VmHWM) and its CPU time per million records on disk
# ("CPU s/M": user + system of the gateway process, all threads, from
# /proc/<pid>/stat utime+stime / CLK_TCK, read just before SIGTERM). CPU s/M is
# the figure that compares across machines; records/s depends on core count
# and on the load generator sharing the machine.
#
# Usage: tools/bench/run.sh [DURATION_S=20] [CONNECTIONS=32] [CASES...]
#   CASES: mask_always encrypt_always syslog csv server_json overload
#          key_always hmac_always tls_always
#          otlp_json otlp_proto loki_json loki_proto es_bulk hec (default: all)
#   The protocol cases send mask_always's records the way an agent would
#   (emit_json --protocol …, to that protocol's path); the on-disk count is
#   checked against the records the protocol's answers accepted.
#   GATEWAY=/path/to/logops-gateway: benchmark that binary instead of this tree's
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DUR="${1:-20}"; CONN="${2:-32}"; shift $(( $# > 2 ? 2 : $# )) || true
CASES=("$@"); [ ${#CASES[@]} -gt 0 ] || CASES=(mask_always encrypt_always syslog csv server_json overload key_always hmac_always tls_always
    otlp_json otlp_proto loki_json loki_proto es_bulk hec)
BATCH=100

cd "$root"
cargo build --release -q -p logops-gateway -p logops-emitters -p logops-tools
bin="$root/target/release"
# GATEWAY=/path/to/logops-gateway benchmarks another build (an A/B of two
# commits in one time window); the emitters and tools are still this tree's.
gateway="${GATEWAY:-$bin/logops-gateway}"

echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
[ -z "${GATEWAY:-}" ] || echo "gateway: $GATEWAY"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "load:    ${CONN} connections, ${BATCH}-record batches, ${DUR} s per case, load generator on the same machine"
echo
printf '%-16s %12s %9s %9s %9s %9s %9s %8s %s\n' case "records/s" "MiB/s" "p50 ms" "p99 ms" "RSS MiB" "CPU s/M" "503s" "notes"

start_gateway() { # env assignments...; sets GW_PID, GW_ADDR
    tmp="$(mktemp -d)"
    env -i PATH="$PATH" HOME="$HOME" LOGOPS_LISTEN=127.0.0.1:0 LOGOPS_SINK_DIR="$tmp/ingest" \
        LOGOPS_LOG_LEVEL=info "$@" "$gateway" 2>"$tmp/gateway.log" &
    GW_PID=$!
    for _ in $(seq 1 100); do
        GW_ADDR="$(grep -o 'listening on https\{0,1\}://[0-9.:]*' "$tmp/gateway.log" 2>/dev/null | head -1 | sed 's#.*://##')" || true
        [ -n "$GW_ADDR" ] && return 0
        sleep 0.1
    done
    echo "gateway did not start:"; cat "$tmp/gateway.log"; exit 1
}

cpu_seconds() { # pid: user + system CPU seconds of the process (all threads) so far
    # /proc/<pid>/stat: fields after the ")" closing comm; utime and stime are
    # fields 14 and 15 of the whole line, i.e. 12 and 13 after the ")".
    local rest; rest="$(sed 's/^.*) //' "/proc/$1/stat")"
    awk -v tck="$(getconf CLK_TCK)" '{printf "%.3f", ($12 + $13) / tck}' <<<"$rest"
}

stop_gateway() { # prints "peak-RSS-MiB cpu-seconds"
    local hwm cpu
    hwm="$(awk '/VmHWM/ {print $2}' /proc/$GW_PID/status)"
    cpu="$(cpu_seconds "$GW_PID")"
    kill -TERM "$GW_PID"; wait "$GW_PID" || true
    echo "$(( hwm / 1024 )) $cpu"
}

report() { # case summary.json rss cpu-seconds notes
    python3 - "$1" "$2" "$3" "$tmp/ingest" "$5" "$4" <<'PY'
import json, os, sys, glob
case, summary, rss, sink, notes, cpu = sys.argv[1:]
s = json.loads(open(summary).read().strip().splitlines()[-1])
lines = bytes_ = 0
for f in glob.glob(os.path.join(sink, "*.ndjson")):
    data = open(f, "rb").read()
    lines += data.count(b"\n"); bytes_ += len(data)
el = s["elapsed_s"]
rej = sum(v for k, v in s.get("rejected", {}).items() if k == "503")
assert lines == s["accepted"], f"{case}: {lines} lines on disk but {s['accepted']} records acknowledged"
cpu_per_m = float(cpu) / lines * 1e6 if lines else float("nan")
print(f"{case:<16} {lines/el:12,.0f} {bytes_/el/2**20:9.1f} {s['latency_ms']['p50']:9.2f} {s['latency_ms']['p99']:9.2f} {rss:>9} {cpu_per_m:9.2f} {rej:8} {notes}")
PY
}

run_case() { # name emitter extra-emitter-args -- gateway env...
    local name="$1" emitter="$2"; shift 2
    local eargs=(); while [ "$1" != "--" ]; do eargs+=("$1"); shift; done; shift
    start_gateway "$@"
    "$bin/$emitter" --url "${SCHEME:-http}://$GW_ADDR/v1/logs" --concurrency "$CONN" --duration "${DUR}s" \
        --batch-size "$BATCH" --seed 42 "${eargs[@]}" >"$tmp/summary.json" 2>"$tmp/emitter.log"
    local rss cpu; read -r rss cpu <<<"$(stop_gateway)"
    report "$name" "$tmp/summary.json" "$rss" "$cpu" "${NOTES:-}"
    LAST_RATE="$(python3 -c "import json;print(int(json.loads(open('$tmp/summary.json').read().strip().splitlines()[-1])['records_per_sec']))")"
    rm -rf "$tmp"
}

KEY="$("$bin/logops-keygen" 2>/dev/null)"
# Access control and TLS material for the auth cases, in a temp dir of this run.
secrets="$(mktemp -d)"; trap 'rm -rf "$secrets"' EXIT
printf '[[key]]\nid = "bench"\nsecret = "bench-secret-0123456789"\n' >"$secrets/keys.toml"; chmod 600 "$secrets/keys.toml"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=bench-ca \
    -keyout "$secrets/ca.key" -out "$secrets/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -keyout "$secrets/server.key" -out "$secrets/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$secrets/san.ext"
openssl x509 -req -in "$secrets/server.csr" -CA "$secrets/ca.pem" -CAkey "$secrets/ca.key" -CAcreateserial \
    -days 1 -extfile "$secrets/san.ext" -out "$secrets/server.pem" 2>/dev/null
AUTH=(--api-key bench --secret bench-secret-0123456789)
for c in "${CASES[@]}"; do
    case "$c" in
        mask_always)    NOTES="json ~150 B/record, mask, fsync=always" run_case "$c" emit_json --compact -- LOGOPS_FSYNC=always ;;
        encrypt_always) NOTES="json ~150 B, mask + encrypt msg,service,host" run_case "$c" emit_json --compact -- LOGOPS_FSYNC=always LOGOPS_ENCRYPT_PII=true "LOGOPS_SECRET_KEY=$KEY" LOGOPS_ENCRYPT_FIELDS=service,host ;;
        server_json)    NOTES="json ~450 B/record (nested attrs), mask, fsync=always" run_case "$c" emit_json -- LOGOPS_FSYNC=always ;;
        syslog)         NOTES="text/plain, mask, fsync=always" run_case "$c" emit_syslog -- LOGOPS_FSYNC=always ;;
        csv)            NOTES="text/csv, mask, fsync=always" run_case "$c" emit_csv -- LOGOPS_FSYNC=always ;;
        overload)       NOTES="json ~150 B, 4x connections ($((CONN * 4)))" CONN=$((CONN * 4)) run_case "$c" emit_json --compact -- LOGOPS_FSYNC=always ;;
        key_always)     NOTES="as mask_always, LOGOPS_AUTH=key (bearer)" run_case "$c" emit_json --compact "${AUTH[@]}" --auth key -- LOGOPS_FSYNC=always LOGOPS_AUTH=key "LOGOPS_KEYS_FILE=$secrets/keys.toml" ;;
        hmac_always)    NOTES="as mask_always, LOGOPS_AUTH=hmac, every request signed" run_case "$c" emit_json --compact "${AUTH[@]}" --auth hmac -- LOGOPS_FSYNC=always LOGOPS_AUTH=hmac "LOGOPS_KEYS_FILE=$secrets/keys.toml" LOGOPS_AUTH_NONCE_CACHE=100000000 ;;
        tls_always)     NOTES="as mask_always over HTTPS (keep-alive)" SCHEME=https run_case "$c" emit_json --compact --ca "$secrets/ca.pem" -- LOGOPS_FSYNC=always "LOGOPS_TLS_CERT=$secrets/server.pem" "LOGOPS_TLS_KEY=$secrets/server.key" ;;
        otlp_json)      NOTES="as mask_always, OTLP/JSON to /v1/logs" run_case "$c" emit_json --compact --protocol otlp-json -- LOGOPS_FSYNC=always ;;
        otlp_proto)     NOTES="as mask_always, OTLP protobuf to /v1/logs" run_case "$c" emit_json --compact --protocol otlp-proto -- LOGOPS_FSYNC=always ;;
        loki_json)      NOTES="as mask_always, Loki push JSON" run_case "$c" emit_json --compact --protocol loki-json -- LOGOPS_FSYNC=always ;;
        loki_proto)     NOTES="as mask_always, Loki push protobuf+snappy" run_case "$c" emit_json --compact --protocol loki-proto -- LOGOPS_FSYNC=always ;;
        es_bulk)        NOTES="as mask_always, Elasticsearch _bulk (create)" run_case "$c" emit_json --compact --protocol es-bulk -- LOGOPS_FSYNC=always ;;
        hec)            NOTES="as mask_always, Splunk HEC events" run_case "$c" emit_json --compact --protocol hec -- LOGOPS_FSYNC=always ;;
        *) echo "unknown case $c"; exit 2 ;;
    esac
done
