#!/usr/bin/env bash
# scripts/demo (make run) starts the pipeline, delivers one generated
# workflow run to the file, says where it went and how to look at it, and
# stops cleanly on SIGTERM (a background job of this script ignores SIGINT,
# so the test cannot send the Ctrl-C itself; the demo handles both alike).
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 6
port=$(free_port)
FCE_DEMO_PORT=$port FCE_DEMO_OUT=$TEST_TMP/out FCE_DEMO_RINGS=$TEST_TMP/rings \
    FCE_BIN=$BIN spawn "$TEST_TMP/demo.log" "$FCE_TOP/scripts/demo"
demo=$spawned_pid
check "demo reaches its prompt" \
    wait_for 60 grep -q 'Press Ctrl-C to stop' "$TEST_TMP/demo.log"
sent=$(sed -nE 's/^demo: sending ([0-9]+) events.*/\1/p' "$TEST_TMP/demo.log")
check_eq "every event of the run is in the file" "${sent:-none}" \
    "$(wc -l <"$TEST_TMP/out/cloudevents.jsonl")"
check "it says how to decode them" \
    grep -q "fce decode $TEST_TMP/out/cloudevents.jsonl" "$TEST_TMP/demo.log"
check "fce decode reads the output" \
    "$BIN/fce" decode "$TEST_TMP/out/cloudevents.jsonl"
kill -TERM "$demo"
wait "$demo"
check_eq "SIGTERM stops the demo with status 0" 0 $?
check "the rings drained" \
    grep -q 'every ring drained' "$TEST_TMP/out/demo/supervise.log"
tap_done
