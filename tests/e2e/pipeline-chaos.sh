#!/usr/bin/env bash
# Under load, ingest, the encoder and each publisher are killed with
# SIGKILL at random moments while the supervisor restarts them: every
# event that ingest acknowledged reaches the file and the Kafka topic at
# least once. The duplicate count is reported.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/e2e/pipeline-lib.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 7
RANDOM=4242 # the same kill schedule on every run
targets=(ingest encoder publisher-local publisher-kafka-main)

if ! mock_start --brokers 1 --topic chaos:2; then
    tap_not_ok "mock cluster starts" "$(cat "$TEST_TMP/mock.out")"
    tap_done
fi
pipeline_config "$TEST_TMP/config.yaml" "  - name: kafka-main
    type: kafka
    topicName: chaos
    contentMode: structured
    kafka:
      brokers: [\"$BOOTSTRAP\"]"
gen_list "$TEST_TMP/gen" "$TEST_TMP/list" --runs 100 --nodes 6 --seed 99
total=$(wc -l <"$TEST_TMP/list")
supervise_start "$TEST_TMP/config.yaml" ||
    tap_not_ok "supervisor starts" "$(tail -n 20 "$SUP_LOG")"

# kill_loop: SIGKILL one of the pipeline's processes every 0.3..1.0 s.
kill_loop() {
    local target pid
    while :; do
        sleep "0.$((3 + RANDOM % 8))"
        target=${targets[RANDOM % ${#targets[@]}]}
        pid=$(proc_pid "$target")
        if [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; then
            echo "$target $pid" >>"$TEST_TMP/kills"
        fi
    done
}
: >"$TEST_TMP/kills"
kill_loop &
killer=$!
spawned_pids+=("$killer")

send_out=$(send_list "$TEST_TMP/list" --connections 2 --rate 500 \
    --deadline 150)
send_status=$?
kill "$killer" 2>/dev/null
wait "$killer" 2>/dev/null
echo "# $send_out"
echo "# kills: $(cut -d' ' -f1 "$TEST_TMP/kills" | sort | uniq -c | tr '\n' ' ')"
check_eq "every request is acknowledged in the end" 0 "$send_status"

missing=""
for target in "${targets[@]}"; do
    grep -q "^$target " "$TEST_TMP/kills" || missing+=" $target"
done
check_eq "each process was killed at least once" "" "$missing"

# Wait until both outputs hold every acknowledged event (or time out).
delivered() {
    timeout 60 kcat -C -b "$BOOTSTRAP" -t chaos -o beginning -e -q \
        -f '%s\n' >"$TEST_TMP/kafka.jsonl" 2>/dev/null
    python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked" \
        --jsonl "$OUT" --jsonl "$TEST_TMP/kafka.jsonl" >"$TEST_TMP/check" 2>&1
}
wait_for 90 delivered
result=$(cat "$TEST_TMP/check")
if python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked" \
    --jsonl "$OUT" >/dev/null 2>&1; then
    tap_ok "file: every acknowledged event at least once"
else
    tap_not_ok "file: every acknowledged event at least once" "$result"
fi
if python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked" \
    --jsonl "$TEST_TMP/kafka.jsonl" >/dev/null 2>&1; then
    tap_ok "kafka: every acknowledged event at least once"
else
    tap_not_ok "kafka: every acknowledged event at least once" "$result" \
        "$(grep -c . "$TEST_TMP/kafka.jsonl") records on the topic"
fi
duplicates=$(sed -n 's/.*duplicates=\([0-9]*\).*/\1/p' "$TEST_TMP/check" |
    paste -sd' ')
echo "# duplicates (file, kafka): $duplicates of $total events"
while read -r line; do echo "# $line"; done <"$TEST_TMP/check"
check "duplicate counts reported" test -n "$duplicates"
check "restarts were logged" grep -q 'msg="process exited; restarting"' \
    "$SUP_LOG"

supervise_stop
check_eq "SIGTERM after the chaos exits 0" 0 "$sup_status"
tap_done
