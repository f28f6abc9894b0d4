#!/usr/bin/env bash
# Forwarding benchmark: the release gateway forwarding to a real ClickHouse
# server (Debian's clickhouse-server, started here as the current user with a
# generated config in a temp dir, stopped by PID), all on this machine.
#
#   1. ingest alone     — flood DURATION s, forwarding off (the server idles):
#                         the gateway's records/s;
#   2. ingest + forward — the same flood with LOGOPS_FORWARD=clickhouse
#                         (defaults): the gateway's records/s, the rows in
#                         ClickHouse when the flood ends, how long until every
#                         line on disk is there, CPU of gateway and server;
#   3. paced-alone      — emit_json --eps RATE (one connection, 2000-record
#                         batches), forwarding off: the rate ingest reaches;
#      paced            — the same with forwarding on: the rate ingest reaches
#                         and whether the forwarder keeps up (rows behind at
#                         the end, drain time);
#   4. backlog          — BACKLOG records stored with forwarding off, then a
#                         gateway started with forwarding on: catch-up records/s.
#
# Usage: tools/bench/forward.sh [DURATION_S=20] [CONNECTIONS=32] [RATE=300000] [BACKLOG=10000000]
#   PHASES="alone forward paced-alone paced backlog" (default: all)
#   FWD_ENV="LOGOPS_CLICKHOUSE_COMPRESSION=none LOGOPS_FORWARD_NICE=0 …": extra
#     gateway settings of the forwarding phases (KEY=VALUE words split on
#     spaces; a password in them is printed as [redacted])
#   CH_NICE=N: run clickhouse-server under `nice -n N` (a store sharing the
#     machine with ingest, at a lower priority)
# The forwarder thread's own CPU (reading + compressing) is shown as "fwd thread".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DUR="${1:-20}"; CONN="${2:-32}"; RATE="${3:-300000}"; BACKLOG="${4:-10000000}"
PHASES="${PHASES:-alone forward paced-alone paced backlog}"
read -r -a FWD <<<"LOGOPS_FORWARD=clickhouse ${FWD_ENV:-}"
cd "$root"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p logops-gateway -p logops-emitters
bin="${CARGO_TARGET_DIR:-$root/target}/release"
work="$(mktemp -d /tmp/logops-fwbench.XXXXXX)"
CH_PID=""; GW_PID=""
cleanup() {
    [ -z "$GW_PID" ] || kill "$GW_PID" 2>/dev/null || true
    [ -z "$CH_PID" ] || kill -9 "$CH_PID" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_seconds() { awk -v tck="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); split($0, f, " "); printf "%.1f", (f[12] + f[13]) / tck}' "/proc/$1/stat"; }
fwd_cpu() { # the forwarder thread's CPU seconds in gateway $1
    local t
    for t in /proc/"$1"/task/*; do
        [ "$(cat "$t/comm")" = "logops-fwd-clic" ] && { cpu_seconds "$1/task/${t##*/}"; return; }
    done
    echo "?"
}

start_clickhouse() {
    local d="$work/ch"; mkdir -p "$d"
    CH_HTTP="$(free_port)"; local tcp; tcp="$(free_port)"
    cat >"$d/users.xml" <<EOF
<?xml version="1.0"?>
<yandex><profiles><default></default></profiles><users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users><quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas></yandex>
EOF
    cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex><logger><level>warning</level><log>$d/server.log</log><errorlog>$d/server.err.log</errorlog><size>10M</size><count>1</count></logger>
<http_port>$CH_HTTP</http_port><tcp_port>$tcp</tcp_port><listen_host>127.0.0.1</listen_host>
<path>$d/data/</path><tmp_path>$d/tmp/</tmp_path><user_files_path>$d/user_files/</user_files_path><format_schema_path>$d/format_schemas/</format_schema_path>
<mark_cache_size>268435456</mark_cache_size><users_config>$d/users.xml</users_config><default_profile>default</default_profile><default_database>default</default_database><mlock_executable>false</mlock_executable></yandex>
EOF
    nice -n "${CH_NICE:-0}" clickhouse-server --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
    CH_PID=$!
    for _ in $(seq 1 300); do
        [ "$(curl -s "http://127.0.0.1:$CH_HTTP/ping" || true)" = "Ok." ] && return 0
        sleep 0.1
    done
    echo "clickhouse-server did not start"; cat "$d/stdout.log"; exit 1
}
q() { curl -sS --fail-with-body --data-binary "$1" "http://127.0.0.1:$CH_HTTP/"; }
rows() { q "SELECT count() FROM bench" | tr -d '\n'; }
lines_on_disk() { cat "$1"/*.ndjson 2>/dev/null | wc -l; }

start_gateway() { # sink-dir env...
    local sink="$1"; shift
    env -i PATH="$PATH" HOME="$HOME" LOGOPS_LISTEN=127.0.0.1:0 LOGOPS_SINK_DIR="$sink" LOGOPS_FSYNC=always \
        LOGOPS_CLICKHOUSE_URL="http://127.0.0.1:$CH_HTTP" LOGOPS_CLICKHOUSE_TABLE=bench "$@" \
        "$bin/logops-gateway" 2>"$work/gateway.log" &
    GW_PID=$!
    for _ in $(seq 1 100); do
        GW_ADDR="$(grep -o 'listening on http://[0-9.:]*' "$work/gateway.log" 2>/dev/null | head -1 | sed 's#.*://##')" || true
        [ -n "$GW_ADDR" ] && return 0
        sleep 0.1
    done
    echo "gateway did not start:"; cat "$work/gateway.log"; exit 1
}
stop_gateway() { kill -TERM "$GW_PID"; wait "$GW_PID" || true; GW_PID=""; }
flood() { # extra emitter args...; prints records/s the emitter measured
    "$bin/emit_json" --compact --url "http://$GW_ADDR/v1/logs" --concurrency "$CONN" --batch-size "${BATCH:-100}" --seed 42 "$@" \
        >"$work/summary.json" 2>"$work/emitter.log"
    python3 -c "import json;s=json.loads(open('$work/summary.json').read().strip().splitlines()[-1]);print(int(s['accepted']/s['elapsed_s']))"
}
wait_rows() { # target-rows; prints seconds waited
    local t0; t0="$(date +%s.%N)"
    until [ "$(rows)" -ge "$1" ]; do sleep 0.2; done
    python3 -c "import time;print(f'{time.time()-$t0:.1f}')"
}

start_clickhouse
q "CREATE TABLE bench (ts DateTime, level String, msg String, emitter String, scenario_id String, service String, env String, host String) ENGINE = MergeTree() ORDER BY (level, ts)"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server:  clickhouse-server $(q 'SELECT version()' | tr -d '\n'), same machine (nice ${CH_NICE:-0}); json ~150 B/record, fsync=always, ${CONN} connections, 100-record batches"
echo "forward: ${FWD[*]}" | sed -E 's/(PASSWORD=)[^ ]*/\1[redacted]/g'
echo

for phase in $PHASES; do
    sink="$work/ingest-$phase"
    case "$phase" in
    alone)
        start_gateway "$sink"
        r="$(flood --duration "${DUR}s")"; gcpu="$(cpu_seconds "$GW_PID")"; stop_gateway
        echo "ingest alone:     $r records/s ingested; gateway CPU ${gcpu} s over ${DUR} s"
        ;;
    forward)
        q "TRUNCATE TABLE bench" >/dev/null
        c0="$(cpu_seconds "$CH_PID")"
        start_gateway "$sink" "${FWD[@]}"
        r="$(flood --duration "${DUR}s")"
        at_end="$(rows)"; total="$(lines_on_disk "$sink")"
        drain="$(wait_rows "$total")"
        gcpu="$(cpu_seconds "$GW_PID")"; fcpu="$(fwd_cpu "$GW_PID")"; ccpu="$(python3 -c "print(f'{$(cpu_seconds "$CH_PID") - $c0:.1f}')")"
        stop_gateway
        echo "ingest + forward: $r records/s ingested; $at_end of $total rows in ClickHouse when the flood ended, all $(rows) ${drain} s later; gateway CPU ${gcpu} s (fwd thread ${fcpu} s), clickhouse-server CPU ${ccpu} s"
        ;;
    paced-alone)
        start_gateway "$sink"
        # Paced mode sends on one connection: batches of 2000 reach the rate.
        r="$(BATCH=2000 flood --duration "${DUR}s" --eps "$RATE")"; gcpu="$(cpu_seconds "$GW_PID")"; stop_gateway
        echo "paced ${RATE}/s alone:   $r records/s ingested; gateway CPU ${gcpu} s over ${DUR} s"
        ;;
    paced)
        q "TRUNCATE TABLE bench" >/dev/null
        c0="$(cpu_seconds "$CH_PID")"
        start_gateway "$sink" "${FWD[@]}"
        r="$(BATCH=2000 flood --duration "${DUR}s" --eps "$RATE")"
        at_end="$(rows)"; total="$(lines_on_disk "$sink")"
        drain="$(wait_rows "$total")"
        gcpu="$(cpu_seconds "$GW_PID")"; fcpu="$(fwd_cpu "$GW_PID")"; ccpu="$(python3 -c "print(f'{$(cpu_seconds "$CH_PID") - $c0:.1f}')")"
        stop_gateway
        echo "paced ${RATE}/s + forward: $r records/s ingested; $((total - at_end)) rows behind when the flood ended, caught up ${drain} s later; gateway CPU ${gcpu} s (fwd thread ${fcpu} s), clickhouse-server CPU ${ccpu} s"
        ;;
    backlog)
        q "TRUNCATE TABLE bench" >/dev/null
        start_gateway "$sink"
        while [ "$(lines_on_disk "$sink")" -lt "$BACKLOG" ]; do flood --duration 5s >/dev/null; done
        stop_gateway
        total="$(lines_on_disk "$sink")"; bytes="$(cat "$sink"/*.ndjson | wc -c)"
        c0="$(cpu_seconds "$CH_PID")"
        start_gateway "$sink" "${FWD[@]}"
        secs="$(wait_rows "$total")"
        gcpu="$(cpu_seconds "$GW_PID")"; fcpu="$(fwd_cpu "$GW_PID")"; ccpu="$(python3 -c "print(f'{$(cpu_seconds "$CH_PID") - $c0:.1f}')")"
        stop_gateway
        python3 -c "print(f'backlog catch-up: {$total:,} records ({$bytes/2**20:,.0f} MiB) in $secs s = {$total/$secs:,.0f} records/s; gateway CPU $gcpu s (fwd thread $fcpu s), clickhouse-server CPU $ccpu s')"
        ;;
    *) echo "unknown phase $phase"; exit 2 ;;
    esac
    rm -rf "$sink"
done
