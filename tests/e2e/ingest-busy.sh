#!/usr/bin/env bash
# fce send against a full ring that no consumer drains. The stream and
# HTTP transports both resend while ingest responds with BUSY or 503, give
# up after --busy-timeout (not --timeout), and say that the ring was full.
# When a consumer frees room in time, both deliver every event.
set -u
. "$(dirname "$0")/../lib/tap.sh"

CORPUS=$FCE_TOP/tests/data/corpus
DRAIN=$FCE_TOP/$BUILD/bench/ingest-drain
EVENT=$CORPUS/valid/003-node-queued.pb

records_in() {
    "$BIN/fce" ring inspect "$ring" | awk '/^records in/ {print $3}'
}

# fill_ring: posts events until ingest responds with 503.
fill_ring() {
    local status
    for _ in $(seq 1000); do
        status=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
            -H 'Content-Type: application/x-protobuf' \
            --data-binary "@$EVENT" \
            "http://127.0.0.1:$port/api/v1/events/nodes")
        [ "$status" = 503 ] && return 0
    done
    return 1
}

# timed_send ARGS...: runs fce send and sets out, rc and elapsed (ms).
timed_send() {
    local start=$(date +%s%N)
    out=$(timeout 60 "$BIN/fce" send --url "127.0.0.1:$port" "$@" 2>&1)
    rc=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
}

# within VALUE MIN MAX: MIN <= VALUE < MAX.
within() {
    [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]
}

# check_busy_failure NAME ANSWER: fce send failed after the 3 s busy
# timeout, well before 60 s, with a message naming ANSWER and the ring.
check_busy_failure() {
    local name=$1 answer=$2
    check_eq "$name: fce send exits 1" 1 "$rc"
    check "$name: gives up after --busy-timeout" \
        within "$elapsed" 2900 15000
    check "$name: the failure says ingest answered $answer" \
        grep -q "^failed .*ingest answered $answer for [0-9]* ms, past the busy timeout of 3000 ms (its ring stayed full" <<<"$out"
    check "$name: the failure carries ingest's message" \
        grep -q "ring.* full" <<<"$out"
    check "$name: no ack timeout is reported" \
        bash -c '! grep -q "no ack from ingest" <<<"$1"' _ "$out"
}

tap_plan 15
dir=$TEST_TMP
ring=$dir/ingest.ring
port=$(free_port)
"$BIN/fce" ring create "$ring" --capacity 64KiB --max-record 16KiB >/dev/null
spawn "$dir/ingest.log" "$BIN/fce-ingest" --ring "$ring" \
    --listen "127.0.0.1:$port"
wait_port "$port" 10
check "the ring fills up" fill_ring
full=$(records_in)

timed_send --timeout 2s --busy-timeout 3s "$EVENT"
echo "# stream: $elapsed ms: $out"
check_busy_failure "stream" BUSY
timed_send --http --timeout 2s --busy-timeout 3s "$EVENT"
echo "# http: $elapsed ms: $out"
check_busy_failure "http" 503
check_eq "nothing more reached the full ring" "$full" "$(records_in)"

# A consumer that starts after 2.5 s frees room within the busy timeout,
# after ingest sent BUSY at least once (it holds a frame for 1 s first).
timeout 30 "$DRAIN" "$ring" --delay-ms 2500 --count $((full + 2)) \
    >"$dir/drain.out" &
drain_pid=$!
timed_send --timeout 2s --busy-timeout 20s "$EVENT"
check_eq "stream: accepted once the ring has room" 0 "$rc"
timed_send --http --timeout 2s --busy-timeout 20s "$EVENT"
check_eq "http: accepted once the ring has room" 0 "$rc"
wait "$drain_pid"
check_eq "the consumer got every accepted event" $((full + 2)) \
    "$(cat "$dir/drain.out")"
tap_done
