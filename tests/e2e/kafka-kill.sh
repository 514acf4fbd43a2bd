#!/usr/bin/env bash
# The Kafka publisher killed with SIGKILL mid-batch and restarted: nothing
# is lost, and the only duplicates are events the broker had stored but
# the ring had not yet released (the unacknowledged window).
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 7
# The requests of at most 4 KB: 60 rounds stay far below the mock's 5 MB
# log limit per partition.
corpus_list "$TEST_TMP/list" 4096
events=$(wc -l <"$TEST_TMP/list")
mock_start --brokers 3 --topic kill:4 ||
    { tap_not_ok "mock cluster starts"; tap_done; }
# 40 ms per response keeps produce requests in flight at any moment.
mock_command rtt all 40

cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 16MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
publishers:
  - name: kill
    type: kafka
    topicName: kill
    contentMode: structured
    batch: {maxRecords: 50}
    kafka: {brokers: ["$BOOTSTRAP"]}
YAML

repeat=60
total=$((repeat * events))
ring=$TEST_TMP/rings/kill.ring
consumer_start kill "$TEST_TMP/kill.dump"
publisher_start "$TEST_TMP/config.yaml" kill
pid=$publisher_pid
wait_for 10 test -e "$ring"
"$HELPERS/ce-feed" --ring "$ring" --list "$TEST_TMP/list" \
    --repeat $repeat --unique --rate 800 >/dev/null &
feed_pid=$!
wait_for 10 dump_has "$TEST_TMP/kill.dump" 800
kill -KILL "$pid"
{ wait "$pid"; } 2>/dev/null
check_eq "publisher killed by SIGKILL" 137 "$?"
released=$(ring_released "$ring")
# Requests sent before the kill may still be stored: let them settle.
sleep 1
stored=$(kafka_count kill)
window=$((stored - released))
# Mid-batch: the broker stored records whose release had not happened.
check "killed mid-batch ($released released, $stored stored of $total)" \
    test "$released" -gt 0 -a "$stored" -gt "$released" -a \
    "$released" -lt "$total"

publisher_start "$TEST_TMP/config.yaml" kill
pid=$publisher_pid
wait "$feed_pid"
check_args=(--mode structured --max-data-bytes 4096 --repeat $repeat --unique
    --allow-duplicates --window-start "$released")
wait_for 60 dump_complete "$TEST_TMP/kill.dump" "${check_args[@]}"
stop_pid "$pid"
check_eq "restarted publisher exits 0" 0 "$stopped_status"
stop_pid "$consumer_pid"

out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/kill.dump" \
    --manifest "$MANIFEST" "${check_args[@]}" 2>&1)
check "SIGKILL loses nothing, no early duplicates ($out)" test $? -eq 0
duplicates=$(sed -n 's/.* duplicates=\([0-9]*\) .*/\1/p' <<<"$out")
echo "# released=$released stored=$stored window=$window" \
    "duplicates=$duplicates"
check "duplicates ($duplicates) within the window ($window)" \
    test "${duplicates:-x}" -le "$window"
check "restart logs a clean stop" grep -q 'msg=stopped' "$TEST_TMP/kill.log"
check_eq "ring empty after the restart" "$total" "$(ring_released "$ring")"
tap_done
