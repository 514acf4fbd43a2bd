#!/usr/bin/env bash
# bench-pubsub: events per second from a full ring through fce-publisher to
# the Pub/Sub emulator, side by side with the official Node.js client
# publishing the same structured CloudEvents with the same batch limits
# (1000 messages, 10 MB, 5 ms) to the same emulator. Ours runs over gRPC
# (the default transport) against the official client, which speaks gRPC
# too, and over REST against a plain fetch peer. Three alternating rounds
# of all four; the best round of each side counts, because the emulator's
# JVM warms up as the run goes on.
#
#   bench/pubsub/run.sh          (make bench-pubsub)
#   FCE_BENCH_REPEAT=R           corpus repetitions per round (default 200)
#   FCE_BENCH_IN_FLIGHT=N        our publish requests at once (default 8)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
repeat=${FCE_BENCH_REPEAT:-200}
in_flight=${FCE_BENCH_IN_FLIGHT:-8}
work=$(mktemp -d "${TMPDIR:-/tmp}/fce-bench-pubsub.XXXXXX")
publisher_pid=

# shellcheck source=../../tests/lib/service-pubsub.sh
. tests/lib/service-pubsub.sh
cleanup() {
    if [ -n "$publisher_pid" ]; then
        kill -TERM "$publisher_pid" 2>/dev/null || true
    fi
    fce_service_pubsub_stop
    rm -rf "$work"
}
trap cleanup EXIT

log_dir=$work fce_service_pubsub_start >"$work/emulator.out" || true
if [ -z "${FCE_PUBSUB_EMULATOR:-}" ]; then
    cat "$work/emulator.out" >&2
    echo "bench pubsub: the Pub/Sub emulator did not start" >&2
    exit 1
fi
export PUBSUB_EMULATOR_HOST=$FCE_PUBSUB_EMULATOR
# The Node client looks for a metadata server even with the emulator. Turn
# the detection off, and point it at a closed local port in case it tries.
export METADATA_SERVER_DETECTION=none
export GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9
if [ ! -d tests/npm-gcp/node_modules/@google-cloud/pubsub ]; then
    (cd tests/npm-gcp && npm ci --no-audit --no-fund --loglevel=error)
fi

python3 - tests/data/corpus/manifest.json tests/data/corpus >"$work/list" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["expect"] == "accept":
        print(e["kind"], sys.argv[2] + "/" + e["file"])
PY

create_topic() {
    curl -fsS -X PUT -H 'Content-Type: application/json' -d '{}' \
        "http://$FCE_PUBSUB_EMULATOR/v1/projects/bench/topics/$1" >/dev/null
}

cat >"$work/config.yaml" <<YAML
rings: {directory: $work/rings, capacity: 256MiB, maxRecord: 1MiB}
ingest: {maxBodyBytes: 512KiB}
publishers:
  - name: bench
    type: pubsub
    topicName: TOPIC
    contentMode: structured
    batch: {maxRecords: 1000, maxBytes: 10MiB, linger: 5ms}
    gcp: {projectId: bench, transport: TRANSPORT, maxMessages: 1000,
          maxRequestBytes: 10000000, maxInFlight: $in_flight}
YAML

records_out() {
    "$BUILD/bin/fce" ring inspect "$1" | awk '$1 == "records" && $2 == "out" {print $3}'
}

# ours TRANSPORT ROUND: prints the seconds from starting fce-publisher on a
# full ring until every record is released (delivered).
ours() {
    local transport=$1 topic=ours-$1-$2 ring=$work/rings/bench.ring start end
    shift
    create_topic "$topic"
    rm -rf "$work/rings" && mkdir -p "$work/rings"
    "$BUILD/helpers/ce-feed" --ring "$ring" --create 256MiB --list "$work/list" \
        --repeat "$repeat" --unique --kcat-out "$work/events.txt" >/dev/null
    sed -e "s/TOPIC/$topic/" -e "s/TRANSPORT/$transport/" "$work/config.yaml" \
        >"$work/round.yaml"
    start=$(date +%s.%N)
    "$BUILD/bin/fce-publisher" --config "$work/round.yaml" \
        >"$work/ours-$transport-$1.log" 2>&1 &
    publisher_pid=$!
    while [ "$(records_out "$ring")" -lt "$events" ]; do
        kill -0 "$publisher_pid" 2>/dev/null ||
            { cat "$work/ours-$transport-$1.log" >&2; return 1; }
        sleep 0.01
    done
    end=$(date +%s.%N)
    kill -TERM "$publisher_pid"
    wait "$publisher_pid" || true
    publisher_pid=
    # Released records include dead-lettered ones: count only deliveries.
    local delivered
    delivered=$(sed -n 's/.*msg=stopped .* delivered=\([0-9]*\).*/\1/p' \
        "$work/ours-$transport-$1.log")
    if [ "$delivered" != "$events" ]; then
        echo "bench pubsub: ours over $transport delivered ${delivered:-?} of $events events" >&2
        tail -5 "$work/ours-$transport-$1.log" >&2
        return 1
    fi
    python3 -c "print(f'{$end - $start:.3f}')"
}

peer() {
    local topic=peer-$1
    create_topic "$topic"
    node bench/pubsub/peer.js "$work/events.txt" bench "$topic" |
        sed -n 's/.*seconds=//p'
}

peer_rest() {
    local topic=rest-$1
    create_topic "$topic"
    node bench/pubsub/peer-rest.js "$work/events.txt" bench "$topic" \
        "$in_flight" | sed -n 's/.*seconds=//p'
}

events=$((repeat * $(wc -l <"$work/list")))
best_grpc= best_peer= best_rest= best_fetch=
best() { python3 -c "print(min(x for x in [$1, ${2:-$1}]))"; }
for round in 1 2 3; do
    g=$(ours grpc "$round")
    p=$(peer "$round")
    r=$(ours rest "$round")
    f=$(peer_rest "$round")
    echo "round $round: ours-grpc ${g}s, google-cloud-pubsub ${p}s," \
        "ours-rest ${r}s, rest-fetch ${f}s for $events events"
    best_grpc=$(best "$g" "$best_grpc")
    best_peer=$(best "$p" "$best_peer")
    best_rest=$(best "$r" "$best_rest")
    best_fetch=$(best "$f" "$best_fetch")
done

python3 - "$events" "$best_grpc" "$best_peer" "$best_rest" "$best_fetch" <<'PY'
import sys
events = int(sys.argv[1])
grpc, peer, rest, fetch = (float(x) for x in sys.argv[2:6])
print(f"events {events}, best round: ours-grpc {grpc:.3f} s, "
      f"google-cloud-pubsub {peer:.3f} s, ours-rest {rest:.3f} s, "
      f"rest-fetch {fetch:.3f} s")
print(f"REST/JSON: ours={events / rest:.0f} peer=rest-fetch "
      f"{events / fetch:.0f} ratio={fetch / rest:.2f}")
print(f"bench pubsub: ours={events / grpc:.0f} peer=google-cloud-pubsub-node "
      f"{events / peer:.0f} ratio={peer / grpc:.2f}")
PY
