#!/usr/bin/env bash
# Issue #19, speed: sustained Apple check-ins per second and p50/p99 latency of
# `mdm-harness serve` (SQLite store) against nanomdm (its file store, `filekv`;
# the older `file` backend is deprecated and refuses to start) under the
# same load, on this machine, in one run of measurements.
#
# Builds nothing: it takes the release binary (cargo build --release -p harness)
# and ../shared/tools/nanomdm. Everything binds 127.0.0.1 on ports picked here;
# every server is stopped by its PID. Rounds alternate nanomdm, serve, nanomdm,
# serve, ... (ROUNDS pairs, at least 2), each against a fresh server and store.
#
# The same check-in stream for both: DEVICES devices over CONCURRENCY keep-alive
# connections enroll (Authenticate, TokenUpdate), connect once (Idle), fetch and
# acknowledge one DeviceInformation queued through the server's API, then send
# Idle check-ins round the fleet for DURATION seconds (the "steady" phase; its
# rate is the sustained figure). Every check-in carries an Mdm-Signature that
# both servers verify (nanomdm: CMS over the body against -ca; serve: the same,
# against the enrolled identity). REUSE=1 (the default) passes
# --reuse-idle-signatures to BOTH targets: each simulated device signs its Idle
# once and resends that signature with every later (identical) Idle; both servers
# still verify every one. Why: the load process shares the 2 cores with the
# server, and our devices hold RSA-2048 identities (SCEP through serve's own
# enrollment, signed by the pure-Rust rsa crate, ~1.5 cores at ~300 check-ins/s)
# while nanomdm's are P-256 issued by the load process; signing afresh measures
# the load client, not the server. REUSE=0 signs every check-in afresh.
#
# Usage: harness/scripts/serve-vs-nanomdm.sh
#   env: BIN (default target/release/mdm-harness), NANOMDM (../shared/tools/nanomdm),
#        DEVICES=1000 CONCURRENCY=100 DURATION=20 ROUNDS=2 REUSE=1 KEEP=0 OUT=<dir>
#        ONLY=ours|nanomdm runs one side (to profile it; no comparison then)
#        SERVE_ARGS="--blocking-threads 8" passes options to serve
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/target/release/mdm-harness}
NANOMDM=${NANOMDM:-$ROOT/../shared/tools/nanomdm}
DEVICES=${DEVICES:-1000}
CONCURRENCY=${CONCURRENCY:-100}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-2}
REUSE=${REUSE:-1}
KEEP=${KEEP:-0}
ONLY=${ONLY:-}
OUT=${OUT:-$(mktemp -d -t serve-vs-nanomdm.XXXXXX)}
API_KEY=speed-$$

[ -x "$BIN" ] || { echo "no release binary at $BIN (cargo build --release -p harness)" >&2; exit 2; }
[ -x "$NANOMDM" ] || { echo "no nanomdm at $NANOMDM" >&2; exit 2; }
[ "$ROUNDS" -ge 2 ] || [ -n "$ONLY" ] || { echo "ROUNDS must be at least 2" >&2; exit 2; }
mkdir -p "$OUT"

PIDS=()
stop_pid() { # stop one server by PID: SIGTERM, then SIGKILL after 20 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
  [ "$KEEP" = 1 ] || rm -rf "$OUT"
}
trap cleanup EXIT
forget_pid() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

pick_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # url [curl options]
  local url=$1 i; shift
  for i in $(seq 1 300); do curl -s -o /dev/null "$@" "$url" && return 0; sleep 0.1; done
  return 1
}

REUSE_FLAG=()
[ "$REUSE" = 1 ] && REUSE_FLAG=(--reuse-idle-signatures)
COMMON=(--devices "$DEVICES" --concurrency "$CONCURRENCY" --duration "$DURATION" --timeout 60 "${REUSE_FLAG[@]}")

echo "== serve-vs-nanomdm: devices=$DEVICES concurrency=$CONCURRENCY duration=${DURATION}s rounds=$ROUNDS reuse-idle-signatures=$REUSE"
echo "== binary $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); nanomdm $("$NANOMDM" -version 2>&1 | head -1)"
echo "== machine: $(nproc) cores; $(uptime)"
echo "== out $OUT"

# Device identities for nanomdm come from a P-256 CA made here (nanomdm's -ca).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=speed-ca \
  -keyout "$OUT/ca.key" -out "$OUT/ca.pem" -days 30 >/dev/null 2>&1
# The APNs stand-in's certificates for serve (made once).
APNS_LISTEN=127.0.0.1:$(pick_port)
"$BIN" load --target https://127.0.0.1:1/t/acme --target-kind ours --apns-dir "$OUT/apns" \
  --apns-listen "$APNS_LISTEN" --prepare-apns >"$OUT/prepare-apns.txt"

RESULTS=()
summarise() { # kind round report.json load.txt peak_server_kib
  python3 - "$@" <<'EOF'
import json, sys
kind, rnd, path, txt, peak = sys.argv[1:6]
r = json.load(open(path))
idle = next((l for l in r["latency"] if l["step"] == "idle"), None)
steady = next((p for p in r["phases"] if p["phase"] == "steady"), None)
errors = sum(r["errors"].values())
lat = f"idle p50 {idle['p50_ms']:.2f} ms p99 {idle['p99_ms']:.2f} ms max {idle['max_ms']:.2f} ms (n={idle['count']})" if idle else "no idle step"
rate = steady["check_ins_per_second"] if steady else r["sustained_check_ins_per_second"]
print(f"RESULT {kind:<8} round {rnd}: {rate:9.1f} check-ins/s sustained; {lat}; "
      f"completed {r['completed']}/{r['devices']}, errors {errors}; server peak RSS {peak} KiB; "
      f"load RSS {r['rss_kib_with_devices']} KiB ({r['bytes_per_device']} B/device)")
EOF
}
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }

run_nanomdm() {
  local round=$1 dir="$OUT/nanomdm-$1" port pid
  mkdir -p "$dir"
  port=$(pick_port)
  "$NANOMDM" -ca "$OUT/ca.pem" -api "$API_KEY" -storage filekv -storage-dsn "$dir/db" \
    -listen "127.0.0.1:$port" >"$dir/nanomdm.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/version" || { echo "nanomdm did not come up" >&2; tail "$dir/nanomdm.log" >&2; exit 1; }
  echo "-- round $round nanomdm (pid $pid, 127.0.0.1:$port, -storage filekv); $(uptime)"
  "$BIN" load --target-kind nanomdm --target "http://127.0.0.1:$port" "${COMMON[@]}" \
    --ca-cert "$OUT/ca.pem" --ca-key "$OUT/ca.key" --api-key "$API_KEY" \
    --run-id "$((round * 2))" --report "$dir/load.json" >"$dir/load.txt" 2>"$dir/load.err" || true
  local peak; peak=$(peak_kib "$pid")
  sed 's/^/   /' "$dir/load.txt"
  stop_pid "$pid"; forget_pid "$pid"
  RESULTS+=("$(summarise nanomdm "$round" "$dir/load.json" "$dir/load.txt" "$peak")")
  echo "${RESULTS[-1]}"
}

run_ours() {
  local round=$1 dir="$OUT/serve-$1" pid origin="" ca="" token="" line
  mkdir -p "$dir"
  mkfifo "$dir/out"
  "$BIN" serve --listen 127.0.0.1:0 --tenant acme --state-dir "$dir/state" \
    --store "sqlite:$dir/db" \
    --apns-issuer "$OUT/apns/apns-issuer.pem" --apns-ca "$OUT/apns/apns-ca.pem" \
    --apns "https://$APNS_LISTEN" ${SERVE_ARGS:-} >"$dir/out" 2>"$dir/serve.log" &
  pid=$!; PIDS+=("$pid")
  exec 3<"$dir/out"
  while read -r -u 3 line; do
    case $line in
      "listening "*) origin=${line#listening } ;;
      "ca "*) ca=${line#ca } ;;
      "token acme "*) token=${line#token acme } ;;
      ready) break ;;
    esac
  done
  # Keep draining serve's stdout so it never blocks on a full pipe.
  cat <&3 >"$dir/serve.out" &
  exec 3<&-
  [ -n "$origin" ] && [ -n "$token" ] || { echo "serve did not get ready" >&2; tail "$dir/serve.log" >&2; exit 1; }
  echo "-- round $round serve (pid $pid, $origin, --store sqlite:$dir/db); $(uptime)"
  "$BIN" load --target-kind ours --target "$origin/t/acme" "${COMMON[@]}" \
    --target-ca "$ca" --admin-token "$token" --apns-dir "$OUT/apns" --apns-listen "$APNS_LISTEN" \
    --run-id "$((round * 2 + 1))" --report "$dir/load.json" >"$dir/load.txt" 2>"$dir/load.err" || true
  local peak; peak=$(peak_kib "$pid")
  sed 's/^/   /' "$dir/load.txt"
  stop_pid "$pid"; forget_pid "$pid"
  RESULTS+=("$(summarise ours "$round" "$dir/load.json" "$dir/load.txt" "$peak")")
  echo "${RESULTS[-1]}"
}

for round in $(seq 1 "$ROUNDS"); do
  [ "$ONLY" = ours ] || run_nanomdm "$round"
  [ "$ONLY" = nanomdm ] || run_ours "$round"
done

echo "== summary (devices=$DEVICES concurrency=$CONCURRENCY duration=${DURATION}s reuse-idle-signatures=$REUSE); $(uptime)"
printf '%s\n' "${RESULTS[@]}"
python3 - "${RESULTS[@]}" <<'EOF'
import re, sys
rows = {"nanomdm": [], "ours": []}
for line in sys.argv[1:]:
    m = re.match(r"RESULT (\S+)\s+round \d+:\s+([\d.]+) check-ins/s.*?p99 ([\d.]+) ms", line)
    if m:
        rows[m.group(1)].append((float(m.group(2)), float(m.group(3))))
def med(xs):
    xs = sorted(xs); n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2 if xs else float("nan")
n_rate, o_rate = med([r for r, _ in rows["nanomdm"]]), med([r for r, _ in rows["ours"]])
n_p99, o_p99 = med([p for _, p in rows["nanomdm"]]), med([p for _, p in rows["ours"]])
print(f"MEDIAN nanomdm {n_rate:.1f} check-ins/s p99 {n_p99:.2f} ms; ours {o_rate:.1f} check-ins/s p99 {o_p99:.2f} ms; "
      f"ratio {o_rate / n_rate if n_rate else float('nan'):.2f}x; "
      f"goal (>= 2x and lower p99): {'met' if n_rate and o_rate >= 2 * n_rate and o_p99 < n_p99 else 'NOT met'}")
EOF
