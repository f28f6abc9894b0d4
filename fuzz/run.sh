#!/usr/bin/env bash
# Runs every LogOps fuzz target for a given time and reports executions and findings.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        default 60
#
# Environment:
#   FUZZ_TARGETS="pipeline timestamp"  only these targets (default: all)
#   FUZZ_SANITIZER=none|address        default none (stable toolchain; `address`
#                                      needs RUSTC_BOOTSTRAP=1, which is set for it)
#   FUZZ_JOBS=1                        libFuzzer workers per target (the machine is shared)
#   FUZZ_MAX_LEN=65536                 longest input libFuzzer makes (bigger seeds are cut)
#
# Seeds come from the emitters' own traffic (`emit_* --dry-run`), hand-written
# OTLP and timestamp samples, the bodies real agents sent
# (tests/fixtures/agents/, plus a Loki protobuf+snappy push made from the
# Fluent Bit Loki one), and every saved regression input. Crashes land in
# fuzz/artifacts/<target>/; copy each into
# services/ingest_gateway/tests/fuzz_regressions/ once fixed. Exit status 1 if
# any target found something. Not part of CI (too long); the regressions are.
set -euo pipefail

secs="${1:-60}"
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;; esac
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
all_targets="decode_json decode_ndjson decode_text decode_csv decode_otlp body_decode timestamp pipeline
    decode_otlp_proto decode_loki decode_es_bulk decode_hec"
targets="${FUZZ_TARGETS:-$all_targets}"
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"
regressions="$root/services/ingest_gateway/tests/fuzz_regressions"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked
fi
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

# ---- seed corpora -----------------------------------------------------------
echo "== seeding corpora"
emitters="emit_json emit_minimal emit_syslog emit_csv emit_noise"
for e in $emitters; do
    if [ ! -x "$root/target/debug/$e" ]; then
        (cd "$root" && cargo build -q -p logops-emitters)
        break
    fi
done
seeds="$here/target/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{json,ndjson,text,csv,otlp,ts,otlp_proto,loki,es_bulk,hec}
emit() { "$root/target/debug/$1" --dry-run -q "${@:2}"; }
for s in 1 2 3; do
    emit emit_json -n 20 --seed "$s" --partial-ratio 0.3 >"$seeds/json/emit_json-$s"
    emit emit_json -n 20 --seed "$s" --ndjson >"$seeds/ndjson/emit_json-$s"
    emit emit_minimal -n 10 --seed "$s" >"$seeds/json/emit_minimal-$s"
    emit emit_noise -n 20 --seed "$s" --chaos 0.9 >"$seeds/json/emit_noise-$s"
    emit emit_syslog -n 30 --seed "$s" --partial-ratio 0.3 >"$seeds/text/emit_syslog-$s"
    emit emit_csv -n 20 --seed "$s" --partial-ratio 0.3 >"$seeds/csv/emit_csv-$s"
done
cat >"$seeds/otlp/otlp-1" <<'EOF'
{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},{"key":"host.name","value":{"stringValue":"web-1"}}]},"scopeLogs":[{"scope":{"name":"app"},"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"payment failed for bob@example.com from 10.1.2.3"},"attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"ok","value":{"boolValue":false}},{"key":"ratio","value":{"doubleValue":0.5}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":7}]}}}],"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"},{"observedTimeUnixNano":"1700000000000000001","severityText":"warn","body":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}}]}]}]}
EOF
cat >"$seeds/otlp/otlp-2" <<'EOF'
[{"scopeLogs":[{"logRecords":[{"timeUnixNano":0,"severityNumber":9,"body":{"bytesValue":"aGVsbG8="}}]}]}]
EOF
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" >"$seeds/ts/ts-$i"
done <<'EOF'
2026-11-22T10:00:00Z
2026-11-22 10:00:00.123
2026-11-22T10:00:00.123456+02:00
2026-11-22T01:30:00-0130
2026-11-22t10:00:00,5-05
1700000000
1700000000.5
1700000000123
1700000000123456
1700000000123456789
Nov 22 10:00:00
Feb  3 04:05:06
9999-12-31T23:59:59Z
EOF
# The agents' captured requests: each line's body_b64, one seed per request.
agents="$root/tests/fixtures/agents"
agent_seeds() { # fixture-name seed-folder
    local i=0 b64
    while IFS= read -r b64; do
        i=$((i + 1))
        printf '%s' "$b64" | base64 -d >"$seeds/$2/$1-$i"
    done < <(jq -r '.body_b64 // empty' "$agents/$1.jsonl")
}
agent_seeds fluentbit-opentelemetry otlp_proto
agent_seeds python-otel-sdk-proto otlp_proto
agent_seeds fluentbit-loki loki
agent_seeds python-logging-loki loki
agent_seeds fluentbit-es es_bulk
agent_seeds fluentbit-splunk hec
agent_seeds fluentbit-http-json-lines hec # NDJSON: what /services/collector/raw gets
# No agent in the fixtures sent Loki protobuf: the Fluent Bit JSON push, as a
# logproto.PushRequest in a literal-only snappy block (and without snappy, for
# the target's compress-for-real path).
python3 - "$seeds/loki/fluentbit-loki-1" "$seeds/loki" <<'PY'
import json, sys
def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7f, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def field(tag, payload):
    return varint(tag << 3 | 2) + varint(len(payload)) + payload
def vfield(tag, n):
    return varint(tag << 3) + varint(n)
push = json.load(open(sys.argv[1]))
streams = b""
for s in push["streams"]:
    labels = "{" + ", ".join(f'{k}="{v}"' for k, v in s["stream"].items()) + "}"
    body = field(1, labels.encode())
    for ts, line, *_ in s["values"]:
        stamp = vfield(1, int(ts) // 10**9) + vfield(2, int(ts) % 10**9)
        body += field(2, field(1, stamp) + field(2, line.encode()))
    streams += field(1, body)
snappy = bytearray(varint(len(streams)))
for i in range(0, len(streams), 60):
    chunk = streams[i:i + 60]
    snappy.append((len(chunk) - 1) << 2)
    snappy += chunk
open(sys.argv[2] + "/loki-proto-snappy", "wb").write(snappy)
open(sys.argv[2] + "/loki-proto-raw", "wb").write(streams)
PY
gz() { if command -v gzip >/dev/null; then gzip -c; else cat; fi; }
zs() { if command -v zstd >/dev/null; then zstd -q -c; else cat; fi; }

seed_dir() { # target → the seed folders it starts from
    case "$1" in
        decode_json) echo "json otlp" ;;
        decode_ndjson) echo "ndjson" ;;
        decode_text) echo "text" ;;
        decode_csv) echo "csv" ;;
        decode_otlp) echo "otlp" ;;
        timestamp) echo "ts" ;;
        decode_otlp_proto) echo "otlp_proto" ;;
        decode_loki) echo "loki" ;;
        decode_es_bulk) echo "es_bulk" ;;
        decode_hec) echo "hec" ;;
        *) echo "" ;;
    esac
}
for t in $targets; do
    corpus="$here/corpus/$t"
    mkdir -p "$corpus" "$here/artifacts/$t"
    for d in $(seed_dir "$t"); do cp "$seeds/$d"/* "$corpus/"; done
    # Fixed regressions only: the inputs under open/ are known, unfixed findings.
    find "$regressions" -maxdepth 1 -type f -exec cp {} "$corpus/" \;
    case "$t" in
        pipeline) # byte 0: format (bits 0-1: json, ndjson, text, csv) and config (bits 2-3)
            n=0
            for pair in 0:json 1:ndjson 2:text 3:csv; do
                sel="${pair%%:*}"
                for f in "$seeds/${pair#*:}"/*; do
                    for cfg in 0 4 8 12; do
                        n=$((n + 1))
                        { printf "\\x$(printf %02x $((sel + cfg)))"; cat "$f"; } >"$corpus/seed-$n"
                    done
                done
            done ;;
        body_decode) # byte 0: encodings (0 gzip, 1 zstd, 2 gzip then zstd), byte 1: limit
            for f in "$seeds"/json/* "$seeds"/text/*; do
                b="$(basename "$f")"
                { printf '\x00\x07'; gz <"$f"; } >"$corpus/gz-$b"
                { printf '\x01\x07'; zs <"$f"; } >"$corpus/zst-$b"
                { printf '\x02\x07'; gz <"$f" | zs; } >"$corpus/gzzst-$b"
                { printf '\x00\x00'; gz <"$f"; } >"$corpus/gz-small-$b"
            done ;;
    esac
done

# ---- build ------------------------------------------------------------------
echo "== building fuzz targets (sanitizer: $sanitizer)"
for t in $targets; do
    (cd "$here" && cargo fuzz build -s "$sanitizer" "$t" 2>&1 | tail -n 1)
done

# ---- run --------------------------------------------------------------------
mkdir -p "$here/target/logs"
summary=()
found=0
for t in $targets; do
    log="$here/target/logs/$t.log"
    before=$(find "$here/artifacts/$t" -type f | wc -l)
    echo "== $t: ${secs}s"
    parallel=()
    [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
    set +e
    (cd "$here" && cargo fuzz run -s "$sanitizer" "$t" -- \
        -max_total_time="$secs" -print_final_stats=1 "${parallel[@]}" \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len="${FUZZ_MAX_LEN:-65536}" \
        >"$log" 2>&1)
    status=$?
    set -e
    [ "$jobs" -gt 1 ] && cat "$here"/fuzz-*.log >>"$log" 2>/dev/null && rm -f "$here"/fuzz-*.log
    execs=$( (grep -h 'stat::number_of_executed_units' "$log" || true) | awk '{s += $2} END {print s + 0}')
    cov=$( (grep -hoE 'cov: [0-9]+' "$log" || true) | tail -n 1 | awk '{print $2}')
    after=$(find "$here/artifacts/$t" -type f | wc -l)
    new=$((after - before))
    if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
        found=1
        echo "   FINDING (exit $status): $(grep -hE -A1 '^(==[0-9]+== ERROR|thread .* panicked)' "$log" | head -n 2 | cut -c1-300)"
        find "$here/artifacts/$t" -type f | sed 's/^/   artifact: /'
        echo "   log: $log"
    fi
    summary+=("$(printf '%-14s %12s execs  cov %-6s findings %s' "$t" "$execs" "${cov:-?}" "$new")")
done

echo
echo "== summary (${secs}s per target, log: fuzz/target/logs/<target>.log)"
printf '%s\n' "${summary[@]}"
if [ "$found" -ne 0 ]; then
    echo "findings: see fuzz/artifacts/<target>/; reproduce with: cargo fuzz run -s $sanitizer <target> <artifact>"
    exit 1
fi
echo "no findings"
