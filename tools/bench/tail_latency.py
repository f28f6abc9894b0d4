#!/usr/bin/env python3
"""Tail latency under load (issue #11): N open /v1/tail SSE streams while a
load generator floods the gateway; a probe posts one marked record every
100 ms and times from its 2xx to its arrival on every stream.

usage: tools/bench/tail_latency.py GATEWAY_BIN EMIT_JSON_BIN [TAILS=32] [SECONDS=20]
Prints p50/p99/max latency (ms), the flood's records/s and the gateway's CPU
seconds per million records (user + system, from /proc; steadier than the
rate on a shared machine); run it once with TAILS=0 for the no-tail
baseline. Stdlib only.
"""
import json, os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request

gw_bin, emit_bin = sys.argv[1], sys.argv[2]
tails = int(sys.argv[3]) if len(sys.argv) > 3 else 32
secs = int(sys.argv[4]) if len(sys.argv) > 4 else 20

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

port = free_port()
work = tempfile.mkdtemp()
env = dict(os.environ, LOGOPS_LISTEN=f"127.0.0.1:{port}", LOGOPS_SINK_DIR=f"{work}/ingest",
           LOGOPS_FSYNC="always", LOGOPS_MAX_TAILS=str(max(tails, 1)), LOGOPS_LOG_LEVEL="warn")
gw = subprocess.Popen([gw_bin], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1); break
    except Exception:
        time.sleep(0.1)

sent = {}          # probe id -> time its 2xx arrived
arrivals = {}      # probe id -> list of arrival times
lock = threading.Lock()
stop = False

def tail_reader():
    q = urllib.parse.quote('{level="ERROR"} |= "tail-probe-"')
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /v1/tail?query={q} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    f = s.makefile("rb")
    while not stop:
        line = f.readline()
        if not line:
            return
        if line.startswith(b"data: "):
            now = time.perf_counter()
            rec = json.loads(line[6:])
            pid = rec.get("probe")
            with lock:
                arrivals.setdefault(pid, []).append(now)

readers = [threading.Thread(target=tail_reader, daemon=True) for _ in range(tails)]
for r in readers:
    r.start()
time.sleep(1)
flood = subprocess.Popen([emit_bin, "--url", base + "/v1/logs", "--concurrency", "32", "--duration", f"{secs}s",
                          "--batch-size", "100", "--seed", "42", "--compact", "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
time.sleep(1)
def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

cpu0 = cpu_seconds(gw.pid)
i = 0
t_end = time.time() + secs - 2
while time.time() < t_end:
    body = json.dumps({"level": "ERROR", "msg": f"tail-probe-{i}", "probe": i}).encode()
    req = urllib.request.Request(base + "/v1/logs", data=body, headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    with lock:
        sent[i] = time.perf_counter()
    i += 1
    time.sleep(0.1)
out = flood.communicate()[0].decode()
cpu = cpu_seconds(gw.pid) - cpu0
time.sleep(1)
stop = True
summary = json.loads(out.strip().splitlines()[-1])
lat = []
missing = 0
with lock:
    for pid, t0 in sent.items():
        got = arrivals.get(pid, [])
        if tails and len(got) < tails:
            missing += tails - len(got)
        lat.extend((t - t0) * 1000 for t in got)
gw.terminate(); gw.wait()
shutil.rmtree(work, ignore_errors=True)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] if lat else float("nan")
print(f"tails={tails} probes={len(sent)} arrivals={len(lat)} missing={missing} "
      f"p50={pct(0.5):.1f}ms p99={pct(0.99):.1f}ms max={lat[-1] if lat else float('nan'):.1f}ms "
      f"flood_records_per_sec={summary['records_per_sec']:.0f} "
      f"gateway_cpu_s_per_M={cpu / max(summary.get('accepted', 1), 1) * 1e6:.2f}")
