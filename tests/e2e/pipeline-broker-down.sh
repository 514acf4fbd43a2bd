#!/usr/bin/env bash
# A Kafka publisher whose brokers are all down does not slow the file
# publisher: the file gets every event about as fast as with no Kafka
# publisher at all, while the Kafka ring holds the events; once the
# brokers are back, the topic gets them too.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/e2e/pipeline-lib.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

# topic_has_all: the topic holds $total records (a function, so wait_for
# counts again on every try).
topic_has_all() {
    [ "$(kafka_count flyte-events)" -ge "$total" ]
}

tap_plan 8
gen_list "$TEST_TMP/gen" "$TEST_TMP/list" --runs 40 --nodes 5 --seed 21
total=$(wc -l <"$TEST_TMP/list")

# file_time: seconds from the first request until the file holds them all.
file_time() {
    local start=$EPOCHREALTIME
    send_list "$TEST_TMP/list" --connections 2 >/dev/null
    wait_for 60 sh -c "[ \$(wc -l <'$OUT') -ge $total ]"
    python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
        "$start" "$EPOCHREALTIME"
}

# The baseline: the file publisher alone.
pipeline_config "$TEST_TMP/config.yaml"
supervise_start "$TEST_TMP/config.yaml" ||
    tap_not_ok "supervisor starts" "$(tail -n 20 "$SUP_LOG")"
baseline=$(file_time)
supervise_stop
check_eq "baseline run stops cleanly" 0 "$sup_status"

if ! mock_start --brokers 3 --topic flyte-events:3 || ! mock_send down all
then
    tap_not_ok "mock cluster starts with its brokers down" \
        "$(cat "$TEST_TMP/mock.out")"
    tap_done
fi
rm -rf "$RINGS" "$OUT"
SUP_LOG=$TEST_TMP/supervise-down.log
pipeline_config "$TEST_TMP/config.yaml" "  - name: kafka-main
    type: kafka
    topicName: flyte-events
    kafka:
      brokers: [\"$BOOTSTRAP\"]"
supervise_start "$TEST_TMP/config.yaml" ||
    tap_not_ok "supervisor starts" "$(tail -n 20 "$SUP_LOG")"
with_down=$(file_time)
echo "# file publisher: ${baseline}s alone, ${with_down}s with Kafka down ($total events)"
check_eq "file gets every event with Kafka down" "$total" "$(wc -l <"$OUT")"
check "not slower than twice the baseline plus 2 s" python3 -c \
    "import sys; sys.exit(float(sys.argv[2]) > 2 * float(sys.argv[1]) + 2)" \
    "$baseline" "$with_down"

read -r used records_in records_out <<<"$(ring_fill "$RINGS/kafka-main.ring")"
echo "# kafka ring: used=$used records_in=$records_in records_out=$records_out"
check_eq "kafka ring holds every event" "$total" "$records_in"
check "kafka ring released nothing while down" test "$records_out" -lt "$total"
check_eq "topic is empty while down" 0 "$(kafka_count flyte-events)"

mock_send up all
up_at=$SECONDS
wait_for 60 topic_has_all
echo "# the topic caught up $((SECONDS - up_at)) s after the brokers came back"
check_eq "topic gets every event once the brokers are back" "$total" \
    "$(kafka_count flyte-events)"
supervise_stop
check_eq "SIGTERM exits 0" 0 "$sup_status"
tap_done
