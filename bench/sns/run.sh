#!/usr/bin/env bash
# bench-sns: fce-publisher with the sns backend against a Node script using
# @aws-sdk/client-sns PublishBatch, with the same 10,000 CloudEvents, batch
# size 10 and 8 requests in flight, against one fauxqs on 127.0.0.1, in one
# run. Three rounds alternate ours and the peer; the medians are reported.
# Ours is timed from the publisher's start until its ring is drained (so
# its start-up counts); the peer's publish phase only.
#
# Last line: bench sns: ours=<events/s> peer=aws-sdk-js <events/s> ratio=<x>
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
EVENTS=${FCE_BENCH_SNS_EVENTS:-10000}
ROUNDS=${FCE_BENCH_SNS_ROUNDS:-3}
BATCH=10
IN_FLIGHT=8

scripts/deps --npm >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fce-bench-sns.XXXXXX")
fauxqs_pid=
publisher_pid=
cleanup() {
    for pid in $publisher_pid $fauxqs_pid; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

(cd tests/npm && exec node fauxqs-loopback.mjs "$tmp/fauxqs.port") \
    >"$tmp/fauxqs.log" 2>&1 &
fauxqs_pid=$!
for _ in $(seq 300); do
    [ -s "$tmp/fauxqs.port" ] && break
    sleep 0.1
done
url=http://127.0.0.1:$(cat "$tmp/fauxqs.port")
fq() { python3 tests/helpers/fake-aws/fauxqs_client.py "$url" "$@"; }
topic=$(fq create-topic bench-sns)

# The events: the corpus (without its one event over 256 KiB) repeated
# with unique ids up to $EVENTS.
python3 - "$top/tests/data/corpus" "$EVENTS" >"$tmp/list" <<'PY'
import json, sys
root, want = sys.argv[1], int(sys.argv[2])
entries = [e for e in json.load(open(root + "/manifest.json"))["entries"]
           if e["expect"] == "accept" and "big-input" not in e["file"]]
for i in range(want):
    e = entries[i % len(entries)]
    print(e["kind"], root + "/" + e["file"])
PY
"$BUILD/helpers/ce-feed" --ring "$tmp/events.ring" --create 64MiB \
    --list "$tmp/list" --unique --kcat-out "$tmp/events.tsv" >/dev/null

cat >"$tmp/config.yaml" <<YAML
rings: {directory: $tmp/rings, capacity: 64MiB, maxRecord: 1MiB}
ingest: {maxBodyBytes: 512KiB}
publishers:
  - name: bench-sns
    type: sns
    topicName: $topic
    batch: {maxRecords: 500, linger: 1ms}
    aws:
      endpoint: $url
      maxBatchEntries: $BATCH
      maxInFlight: $IN_FLIGHT
YAML
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench
export AWS_EC2_METADATA_DISABLED=true FCE_LOG_LEVEL=warn

# cpu_us PID: user + system CPU time of a running process.
cpu_us() {
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000000 / hz}' \
        "/proc/$1/stat"
}

records_out() {
    "$BUILD/bin/fce" ring inspect "$1" | awk '/^records out/ {print $3}'
}

run_ours() {
    mkdir -p "$tmp/rings"
    cp "$tmp/events.ring" "$tmp/rings/bench-sns.ring"
    local start end cpu
    start=$(date +%s%N)
    "$BUILD/bin/fce-publisher" --config "$tmp/config.yaml" \
        >"$tmp/publisher.log" 2>&1 &
    publisher_pid=$!
    while [ "$(records_out "$tmp/rings/bench-sns.ring")" -lt "$EVENTS" ]; do
        kill -0 "$publisher_pid" 2>/dev/null || {
            cat "$tmp/publisher.log" >&2
            exit 1
        }
        sleep 0.01
    done
    end=$(date +%s%N)
    cpu=$(cpu_us "$publisher_pid")
    kill -TERM "$publisher_pid"
    wait "$publisher_pid"
    publisher_pid=
    if [ -s "$tmp/rings/bench-sns.dead.jsonl" ]; then
        echo "bench sns: fce-publisher dead-lettered events" >&2
        exit 1
    fi
    rm -rf "$tmp/rings"
    python3 -c 'import sys
n, ns, cpu = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
print("%.0f %.3f" % (n / (ns / 1e9), cpu / n * 10000 / 1e6))' \
        "$EVENTS" $((end - start)) "$cpu"
}

run_peer() {
    (FCE_NPM_DIR=$top/tests/npm NODE_NO_WARNINGS=1 node "$top/bench/sns/peer.mjs" "$url" "$topic" \
        "$tmp/events.tsv" "$BATCH" "$IN_FLIGHT") | python3 -c 'import json, sys
r = json.load(sys.stdin)
if r["failed"]:
    sys.exit("bench sns: the peer had %d failed entries" % r["failed"])
print("%.0f %.3f" % (r["events"] / r["seconds"],
                    r["cpu_us"] / r["events"] * 10000 / 1e6))'
}

ours=() peer=()
for round in $(seq "$ROUNDS"); do
    ours+=("$(run_ours)")
    peer+=("$(run_peer)")
    echo "round $round: ours ${ours[-1]}, peer ${peer[-1]}" \
        "(events/s, CPU seconds per 10000 events)"
done

python3 - "$EVENTS" "${ours[@]}" -- "${peer[@]}" <<'PY'
import statistics, sys
args = sys.argv[2:]
split = args.index("--")
ours = [tuple(map(float, a.split())) for a in args[:split]]
peer = [tuple(map(float, a.split())) for a in args[split + 1:]]
o_rate = statistics.median(r for r, _ in ours)
p_rate = statistics.median(r for r, _ in peer)
o_cpu = statistics.median(c for _, c in ours)
p_cpu = statistics.median(c for _, c in peer)
print("events per run: %s, batch 10, 8 requests in flight, fauxqs on 127.0.0.1"
      % sys.argv[1])
print("CPU seconds per 10000 events: ours=%.3f peer=%.3f" % (o_cpu, p_cpu))
print("bench sns: ours=%.0f peer=aws-sdk-js %.0f ratio=%.2f"
      % (o_rate, p_rate, o_rate / p_rate))
PY
