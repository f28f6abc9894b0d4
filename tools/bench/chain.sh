#!/usr/bin/env bash
# Tamper evidence cost (issue #15): the same flood with LOGOPS_CHAIN off and
# on (fsync=always), alternating, then logops-verify's speed over the day file
# the chained runs wrote.
# usage: tools/bench/chain.sh [SECONDS=15] [ROUNDS=2]   (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-15}
rounds=${2:-2}
bin=target/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "work: $work"
pub=$("$bin/logops-keygen" --chain --out "$work/chain.pem" 2>/dev/null)
echo "$pub" > "$work/pub"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run() { # $1 = true|false, $2 = round
    local p dir pid cpu0 cpu1 out
    p=$(port)
    dir="$work/ingest-$1-$2"
    LOGOPS_LISTEN=127.0.0.1:$p LOGOPS_SINK_DIR="$dir" LOGOPS_FSYNC=always LOGOPS_LOG_LEVEL=warn \
        LOGOPS_CHAIN=$1 LOGOPS_CHAIN_SIGNING_KEY="$work/chain.pem" "$bin/logops-gateway" 2>/dev/null &
    pid=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
    cpu0=$(awk '{print $14+$15}' /proc/$pid/stat)
    out=$("$bin/emit_json" --url "http://127.0.0.1:$p/v1/logs" --concurrency 32 --duration "${secs}s" \
        --batch-size 100 --seed 42 --compact -q | tail -1)
    cpu1=$(awk '{print $14+$15}' /proc/$pid/stat)
    kill $pid; wait $pid 2>/dev/null || true
    python3 - "$1" "$out" "$cpu0" "$cpu1" <<'PY'
import json, os, sys
s = json.loads(sys.argv[2]); tck = os.sysconf("SC_CLK_TCK")
cpu = (float(sys.argv[4]) - float(sys.argv[3])) / tck
print(f"chain={sys.argv[1]} records_per_sec={s['records_per_sec']:.0f} gateway_cpu_s_per_M={cpu / s['accepted'] * 1e6:.2f}")
PY
}
for r in $(seq "$rounds"); do run false "$r"; run true "$r"; done
day=$(ls "$work/ingest-true-1"/*.ndjson | head -1)
size=$(stat -c %s "$day")
start=$(date +%s.%N)
"$bin/logops-verify" --pubkey "$pub" "$day" | tail -3
end=$(date +%s.%N)
python3 -c "import sys; s=$size; t=$end-$start; print(f'verify: {s/1e6:.0f} MB in {t:.2f} s = {s/1e6/t:.0f} MB/s')"
