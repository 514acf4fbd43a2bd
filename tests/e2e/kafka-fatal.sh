#!/usr/bin/env bash
# A fatal producer error (raised by the FCE_KAFKA_TEST_FATAL_AFTER hook with
# rd_kafka_test_fatal_error()) makes the publisher destroy the producer,
# create a new one and publish again what was in flight: nothing is lost.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 10
corpus_list "$TEST_TMP/list" 4096
events=$(wc -l <"$TEST_TMP/list")
mock_start --brokers 3 --topic fatal:4 ||
    { tap_not_ok "mock cluster starts"; tap_done; }
mock_command rtt all 20

cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 16MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
retry: {initialBackoff: 50ms, maxBackoff: 500ms}
publishers:
  - name: fatal
    type: kafka
    topicName: fatal
    contentMode: binary
    kafka: {brokers: ["$BOOTSTRAP"]}
YAML

# An invalid hook value is a configuration error that names the variable.
FCE_KAFKA_TEST_FATAL_AFTER=soon "$BIN/fce-publisher" \
    --config "$TEST_TMP/config.yaml" --publisher fatal \
    >"$TEST_TMP/invalid.log" 2>&1
check_eq "invalid hook value exits 2" 2 "$?"
check "invalid hook value is named" \
    grep -q 'invalid FCE_KAFKA_TEST_FATAL_AFTER.*value=soon' \
    "$TEST_TMP/invalid.log"

repeat=20
total=$((repeat * events))
consumer_start fatal "$TEST_TMP/fatal.dump"
FCE_KAFKA_TEST_FATAL_AFTER=300 publisher_start "$TEST_TMP/config.yaml" fatal
pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/fatal.ring"
"$HELPERS/ce-feed" --ring "$TEST_TMP/rings/fatal.ring" --list "$TEST_TMP/list" \
    --repeat $repeat --unique --rate 600 >/dev/null
check_args=(--mode binary --max-data-bytes 4096 --repeat $repeat --unique
    --allow-duplicates)
wait_for 60 dump_complete "$TEST_TMP/fatal.dump" "${check_args[@]}"
stop_pid "$pid"
check_eq "publisher exits 0" 0 "$stopped_status"
stop_pid "$consumer_pid"

log=$TEST_TMP/fatal.log
check "hook is announced at WARN" \
    grep -q 'level=warn.*msg="test hook set' "$log"
check "fatal error is logged" \
    grep -q 'level=error.*msg="fatal producer error; recreating the producer"' \
    "$log"
# The next publish() or poll() reports the fatal state, whichever is first.
check "driver reopens the backend" \
    grep -Eq 'msg="backend failed; reopening it".*step=(poll|publish)' "$log"
check_eq "producer created twice" 2 "$(grep -c 'msg="backend open"' "$log")"
reopens=$("$BIN/fce" stat --once --tsv "$TEST_TMP/rings" 2>/dev/null |
    awk -F'\t' '$2 == "fatal" && $3 == "reopens" {print $4}')
check_eq "stats count one reopen" 1 "$reopens"
out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/fatal.dump" \
    --manifest "$MANIFEST" "${check_args[@]}" 2>&1)
check "fatal error loses nothing ($out)" test $? -eq 0
check "stop reports nothing left in the ring" \
    grep -q 'msg=stopped.*left_in_ring=0 ' "$log"
tap_done
