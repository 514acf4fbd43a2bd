#!/usr/bin/env bash
# Every corpus event reaches the mock cluster exactly once, with the right
# key, headers and value, in order per key: binary and structured mode,
# both key modes, checked with kcat as the consumer.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 9
corpus_list "$TEST_TMP/list"
total=$(corpus_size)
mock_start --brokers 3 --topic binary:4 --topic structured:4 --topic byid:3 ||
    { tap_not_ok "mock cluster starts"; tap_done; }

write_config() {
    cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 8MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
publishers:
  - name: kafka-binary
    type: kafka
    topicName: binary
    contentMode: binary
    kafka: {brokers: ["$BOOTSTRAP"], version: "3.7.0"}
  - name: kafka-structured
    type: kafka
    topicName: structured
    contentMode: structured
    kafka: {brokers: ["$BOOTSTRAP"], partitioner: fnv1a}
  - name: kafka-id
    type: kafka
    topicName: byid
    contentMode: binary
    kafka: {brokers: ["$BOOTSTRAP"], key: id, version: "2.1.0"}
YAML
}
write_config

# run_one PUBLISHER TOPIC MODE KEY: feeds the corpus and checks the topic.
run_one() {
    local name=$1 topic=$2 mode=$3 key=$4
    publisher_start "$TEST_TMP/config.yaml" "$name"
    local pid=$publisher_pid
    wait_for 10 test -e "$TEST_TMP/rings/$name.ring"
    "$HELPERS/ce-feed" --ring "$TEST_TMP/rings/$name.ring" \
        --list "$TEST_TMP/list" >/dev/null
    wait_for 20 topic_has "$topic" "$total"
    stop_pid "$pid"
    check_eq "$name exits 0 on SIGTERM" 0 "$stopped_status"
    kafka_dump "$topic" "$TEST_TMP/$topic.dump"
    if out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/$topic.dump" \
        --manifest "$MANIFEST" --mode "$mode" --key "$key" 2>&1); then
        tap_ok "$name delivers the corpus exactly once ($mode, key $key)"
    else
        tap_not_ok "$name delivers the corpus exactly once ($mode, key $key)" \
            "$out" "$(tail -n 5 "$TEST_TMP/$name.log")"
    fi
}

run_one kafka-binary binary binary partitionKey
started_ms=$(date +%s%3N)
run_one kafka-structured structured structured partitionKey
stopped_ms=$(date +%s%3N)

# Each message's timestamp is its creation time in milliseconds, set by
# the publisher for the batch it was sent in.
timestamps=$(timeout 60 kcat -C -b "$BOOTSTRAP" -t structured -o beginning \
    -e -q -f '%T\n' 2>/dev/null)
outside=$(awk -v lo="$started_ms" -v hi="$stopped_ms" \
    '$1 < lo || $1 > hi {n++} END {print n + 0}' <<<"$timestamps")
check_eq "structured messages carry their creation time" \
    "$total 0" "$(wc -l <<<"$timestamps") $outside"
run_one kafka-id byid binary id

# The publisher's log names the start and the clean stop.
check "log has the start line" grep -q 'msg=started' "$TEST_TMP/kafka-binary.log"
check "log reports delivered=$total at stop" \
    grep -q "delivered=$total " "$TEST_TMP/kafka-binary.log"
tap_done
