#!/usr/bin/env bash
# fce-publisher's command line: --help, usage and configuration errors with
# their exit status and message, and choosing a publisher by name or by
# backend type. A publisher whose broker is unreachable must keep the
# events in the ring and stop within the drain timeout.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 23
corpus_list "$TEST_TMP/list" 4096
events=$(wc -l <"$TEST_TMP/list")
port=$(free_port) # nothing listens there

cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 8MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
publishers:
  - name: local-a
    type: file
    file: {path: $TEST_TMP/a.jsonl}
  - name: local-b
    type: file
    file: {path: $TEST_TMP/b.jsonl}
  - name: nowhere
    type: kafka
    topicName: events
    kafka: {brokers: ["127.0.0.1:$port"]}
YAML

# run_publisher ARGS...: runs it in the foreground; sets $status and $output.
run_publisher() {
    output=$("$BIN/fce-publisher" "$@" 2>&1)
    status=$?
}

run_publisher --help
check_eq "--help exits 0" 0 "$status"
check "--help names --backend" grep -q -- '--backend NAME' <<<"$output"
run_publisher --publisher local-a
check_eq "missing --config exits 2" 2 "$status"
check "missing --config is named" grep -q -- '--config FILE is missing' \
    <<<"$output"
run_publisher --config "$TEST_TMP/config.yaml" --max-in-flight 0
check_eq "--max-in-flight 0 exits 2" 2 "$status"
check "--max-in-flight 0 names the value" \
    grep -q "invalid --max-in-flight '0'; use a whole number of at least 1" \
    <<<"$output"
run_publisher --config "$TEST_TMP/config.yaml"
check_eq "several publishers need a choice" 2 "$status"
check "the choice lists the publishers" \
    grep -q 'local-a (file) local-b (file) nowhere (kafka)' <<<"$output"
run_publisher --config "$TEST_TMP/config.yaml" --publisher missing
check "unknown publisher exits 2 and is named" test "$status" = 2 -a \
    -n "$(grep "no publisher named 'missing'" <<<"$output")"
run_publisher --config "$TEST_TMP/config.yaml" --backend file
check "ambiguous backend type exits 2" test "$status" = 2 -a \
    -n "$(grep "2 publishers have backend type 'file'" <<<"$output")"
run_publisher --config "$TEST_TMP/missing.yaml"
check_eq "missing config file exits 2" 2 "$status"

# --backend with a type that one publisher has selects that publisher.
"$BIN/fce-publisher" --config "$TEST_TMP/config.yaml" --backend kafka \
    --drain-timeout 1000 >"$TEST_TMP/nowhere.log" 2>&1 &
pid=$!
spawned_pids+=("$pid")
check "--backend kafka starts publisher nowhere" \
    wait_for 10 test -e "$TEST_TMP/rings/nowhere.ring"
"$HELPERS/ce-feed" --ring "$TEST_TMP/rings/nowhere.ring" \
    --list "$TEST_TMP/list" >/dev/null
check "unreachable broker is logged at WARN" wait_for 10 grep -q \
    'level=warn.*component=kafka' "$TEST_TMP/nowhere.log"
sleep 1
check_eq "events stay in the ring" 0 \
    "$(ring_released "$TEST_TMP/rings/nowhere.ring")"
start=$SECONDS
stop_pid "$pid"
check_eq "stop with an unreachable broker exits 0" 0 "$stopped_status"
check "stop returns within the drain timeout" test $((SECONDS - start)) -le 4
check "stop reports the events left in the ring" \
    grep -q "msg=stopped.*delivered=0 .*left_in_ring=$events " \
    "$TEST_TMP/nowhere.log"
check_eq "ring keeps every event after the stop" 0 \
    "$(ring_released "$TEST_TMP/rings/nowhere.ring")"

# Started again against a running cluster, it delivers them.
mock_start --brokers 1 --topic events:1 ||
    { tap_not_ok "mock cluster starts"; tap_done; }
sed -i "s/127.0.0.1:$port/$BOOTSTRAP/" "$TEST_TMP/config.yaml"
publisher_start "$TEST_TMP/config.yaml" nowhere
check "restart delivers what the ring kept" \
    wait_for 20 topic_has events "$events"
stop_pid "$publisher_pid"
kafka_dump events "$TEST_TMP/events.dump"
out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/events.dump" \
    --manifest "$MANIFEST" --mode structured --max-data-bytes 4096 2>&1)
check "kept events arrive exactly once ($out)" test $? -eq 0

# ---- a second consumer on the ring stops the publisher ----
"$BIN/fce" ring create "$TEST_TMP/rings/local-a.ring" --capacity 8MiB \
    --max-record 1MiB >/dev/null 2>&1
spawn "$TEST_TMP/holder.log" "$BIN/fce" decode \
    --ring "$TEST_TMP/rings/local-a.ring" --timeout 20000 --count 1
holder_pid=$spawned_pid
consumer_attached() {
    "$BIN/fce" ring inspect "$TEST_TMP/rings/local-a.ring" |
        grep -q "consumer *attached, pid $holder_pid"
}
wait_for 5 consumer_attached
output=$(timeout 10 "$BIN/fce-publisher" --config "$TEST_TMP/config.yaml" \
    --publisher local-a 2>&1)
status=$?
check_eq "a held consumer side exits 1" 1 "$status"
check "the held ring is named" grep -q 'msg="reading the ring failed' \
    <<<"$output"
check "the holder's pid is named" grep -q "consumer_pid=$holder_pid" \
    <<<"$output"
tap_done
