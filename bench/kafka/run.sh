#!/usr/bin/env bash
# bench-kafka: events/s from a full ring to librdkafka's mock cluster
# (mock-kafka, its own process), side by side in one run with kcat
# producing the same pre-rendered messages to the same cluster, and
# rdkafka_performance when its example source builds. Both producers use
# enable.idempotence=true, acks=all and the murmur2_random partitioner,
# structured mode (the CloudEvent JSON as value, the partition key as key,
# one content-type header), and topics of 4 partitions. Runs alternate
# ours/kcat ROUNDS times; the medians are reported.
#
# The events are the corpus requests of at most 4 KB, repeated with unique
# ids: Flyte events are this size, and the corpus's one 226 KB request
# would dominate the byte count and overflow the mock's 5 MB partition log.
#
# kafka-ring-wait times ours from the publisher's start until the ring's
# consumer has released every record, each acknowledged by the broker.
# kcat is timed from its start until it exits, when every message is
# delivered. Both include process start and the first metadata request.
#
# Memory is the peak resident set of each producer, library pages
# included. For ours it is VmHWM minus RssShmem from /proc just before
# the stop, so the ring's shared pages do not count. For kcat it is GNU
# time's maximum resident set size.
#
#   bench/kafka/run.sh [EVENTS] [ROUNDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
events_wanted=${1:-${FCE_BENCH_EVENTS:-200000}}
rounds=${2:-${FCE_BENCH_ROUNDS:-5}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fce-bench-kafka.XXXXXX")
# Rings live in shared memory, as the default rings.directory does.
shm=$(mktemp -d "${FCE_BENCH_RING_DIR:-/dev/shm}/fce-bench-kafka.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$tmp" "$shm"
}
trap cleanup EXIT

python3 - tests/data/corpus/manifest.json tests/data/corpus >"$tmp/list" <<'PY'
import json, os, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    path = sys.argv[2] + "/" + e["file"]
    if e["expect"] == "accept" and os.path.getsize(path) <= 4096:
        print(e["kind"], path)
PY
corpus=$(wc -l <"$tmp/list")
repeat=$(((events_wanted + corpus - 1) / corpus))
events=$((repeat * corpus))
# Room for every record (under 2 KB each with its attributes), so the
# ring is full before the publisher starts.
ring_size=$((events * 2048 / 1048576 + 16))MiB

topics=()
for round in $(seq "$rounds"); do
    topics+=(--topic "ours-$round:4" --topic "kcat-$round:4")
done
mkfifo "$tmp/mock.in"
exec 7<>"$tmp/mock.in"
"$BUILD/helpers/mock-kafka" --brokers 1 "${topics[@]}" <&7 \
    >"$tmp/mock.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    grep -q '^bootstrap=' "$tmp/mock.out" && break
    sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap=//p' "$tmp/mock.out")
[ -n "$bootstrap" ] || { echo "bench kafka: mock-kafka did not start" >&2; exit 1; }

now() { date +%s.%N; }
rate() { python3 -c "print(round($1 / $2))"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# The same ring contents for every round: written once, copied per round.
"$BUILD/helpers/ce-feed" --ring "$shm/full.ring" --create "$ring_size" \
    --list "$tmp/list" --repeat "$repeat" --unique \
    --kcat-out "$tmp/messages.txt" >/dev/null

run_ours() {
    local round=$1 dir=$shm/ours-$1
    mkdir -p "$dir"
    cat >"$dir/config.yaml" <<YAML
rings: {directory: $dir, capacity: $ring_size, maxRecord: 1MiB}
ingest: {maxBodyBytes: 512KiB}
publishers:
  - name: bench
    type: kafka
    topicName: ours-$round
    contentMode: structured
    batch: {maxRecords: 1000}
    kafka: {brokers: ["$bootstrap"]}
YAML
    cp "$shm/full.ring" "$dir/bench.ring"
    "$BUILD/bench/kafka-ring-wait" "$dir/bench.ring" "$events" \
        >"$dir/wait.out" &
    local waiter=$!
    "$BUILD/bin/fce-publisher" --config "$dir/config.yaml" \
        --publisher bench 2>"$dir/log" &
    local pid=$!
    pids+=("$pid")
    wait "$waiter" || { echo "bench kafka: ours did not finish" >&2; exit 1; }
    local kib
    kib=$(awk '/^VmHWM:/ {peak = $2} /^RssShmem:/ {shared = $2}
        END {print peak - shared}' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || true
    local ms
    ms=$(sed -n 's/^released [0-9]* in \([0-9.]*\) ms$/\1/p' "$dir/wait.out")
    rm -f "$dir/bench.ring"
    echo "$(rate "$events" "($ms / 1000)") $kib"
}

run_kcat() {
    local start end
    start=$(now)
    /usr/bin/time -f %M -o "$tmp/kcat.kib" \
        kcat -P -b "$bootstrap" -t "kcat-$1" -K $'\t' \
        -H content-type=application/cloudevents+json \
        -X enable.idempotence=true -X acks=all \
        -X partitioner=murmur2_random -l "$tmp/messages.txt"
    end=$(now)
    echo "$(rate "$events" "($end - $start)") $(tail -n 1 "$tmp/kcat.kib")"
}

perf_src=/usr/share/doc/librdkafka-dev/examples/rdkafka_performance.c
perf_bin=$tmp/rdkafka_performance
if [ -f "$perf_src" ] &&
    cc -O2 -w -o "$perf_bin" "$perf_src" -lrdkafka -lm -lpthread 2>/dev/null; then
    have_perf=1
else
    have_perf=0
fi

ours=() peer=() ours_kib=() peer_kib=()
for round in $(seq "$rounds"); do
    read -r rate_ours kib_ours < <(run_ours "$round")
    read -r rate_peer kib_peer < <(run_kcat "$round")
    ours+=("$rate_ours") ours_kib+=("$kib_ours")
    peer+=("$rate_peer") peer_kib+=("$kib_peer")
    echo "round $round: ours=$rate_ours kcat=$rate_peer events=$events" \
        "peak KiB: ours=$kib_ours kcat=$kib_peer"
done

if [ "$have_perf" = 1 ]; then
    size=$(awk -F'\t' '{n += length($2)} END {print int(n / NR)}' \
        "$tmp/messages.txt")
    out=$("$perf_bin" -P -t perf -b "$bootstrap" -s "$size" -c "$events" \
        -X enable.idempotence=true -X acks=all -u 2>&1 | tail -n 3 || true)
    echo "rdkafka_performance (-s $size -c $events): $(tr '\n' ' ' <<<"$out")"
else
    echo "rdkafka_performance: not run; librdkafka-dev ships only its" \
        "example source, which needs librdkafka's internal headers" \
        "(../src/rd.h) to build"
fi

om=$(median "${ours_kib[@]}")
pm=$(median "${peer_kib[@]}")
echo "bench kafka memory: ours=${om}KiB peer=kcat ${pm}KiB" \
    "ratio=$(python3 -c "print(round($om / $pm, 2))")"
o=$(median "${ours[@]}")
p=$(median "${peer[@]}")
echo "bench kafka: ours=$o peer=kcat $p ratio=$(python3 -c "print(round($o / $p, 2))")"
