#!/usr/bin/env bash
# A broker down for 10 s under load, then up: the Kafka publisher keeps the
# events of the partitions it leads in its ring, logs at WARN, and delivers
# everything once the broker is back, exactly once. A file publisher fed
# the same events at the same time is not held up.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 11
corpus_list "$TEST_TMP/list"
corpus=$(corpus_size)
mock_start --brokers 3 --topic outage:4 ||
    { tap_not_ok "mock cluster starts"; tap_done; }
# Broker 1 leads partitions 0 and 2, broker 2 leads 1 and 3, so the outage
# stops half of the partitions and the other half keeps flowing.
check "partition leaders set" eval 'mock_command leader outage 0 1 &&
    mock_command leader outage 1 2 && mock_command leader outage 2 1 &&
    mock_command leader outage 3 2'

cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 32MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
retry: {initialBackoff: 50ms, maxBackoff: 1s}
publishers:
  - name: outage
    type: kafka
    topicName: outage
    contentMode: binary
    kafka: {brokers: ["$BOOTSTRAP"], version: "3.7.0"}
  - name: local
    type: file
    file: {path: $TEST_TMP/local.jsonl}
YAML

# 20 rounds at 60 events/s: 18 s of load around the 10 s outage. The
# corpus's 226 KB request goes 20 times to one partition (4.5 MB), under
# the mock's 5 MB log limit, and the consumer reads while it is written.
repeat=20
total=$((repeat * corpus))
consumer_start outage "$TEST_TMP/outage.dump"
publisher_start "$TEST_TMP/config.yaml" outage
pid=$publisher_pid
publisher_start "$TEST_TMP/config.yaml" local
local_pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/outage.ring"
wait_for 10 test -e "$TEST_TMP/rings/local.ring"
for name in outage local; do
    "$HELPERS/ce-feed" --ring "$TEST_TMP/rings/$name.ring" \
        --list "$TEST_TMP/list" --repeat $repeat --unique --rate 60 \
        >"$TEST_TMP/feed-$name.out" &
    feed_pids+=($!)
done
sleep 2
check "broker 1 goes down" mock_command down 1
sleep 9.5
# Fed during the outage, not yet acknowledged, so they are still in the ring.
held=$(($("$BIN/fce" ring inspect "$TEST_TMP/rings/outage.ring" |
    sed -n 's/^records in *\([0-9]*\).*/\1/p') -
    $(ring_released "$TEST_TMP/rings/outage.ring")))
local_lines=$(wc -l <"$TEST_TMP/local.jsonl")
local_fed=$("$BIN/fce" ring inspect "$TEST_TMP/rings/local.ring" |
    sed -n 's/^records in *\([0-9]*\).*/\1/p')
sleep 0.5
check "publisher survives the outage" kill -0 "$pid"
check "broker 1 comes back" mock_command up 1
check "ring holds the unacknowledged events ($held)" test "$held" -gt 100
# The file publisher kept up: at most a second of events behind.
check "file publisher unaffected ($local_lines of $local_fed)" \
    test "$local_lines" -ge $((local_fed - 60))
wait "${feed_pids[@]}"
wait_for 60 dump_complete "$TEST_TMP/outage.dump" --mode binary \
    --repeat $repeat --unique
stop_pid "$pid"
check_eq "outage publisher exits 0" 0 "$stopped_status"
stop_pid "$local_pid"
stop_pid "$consumer_pid"

if out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/outage.dump" \
    --manifest "$MANIFEST" --mode binary --repeat $repeat --unique 2>&1); then
    tap_ok "outage loses nothing, exactly once ($out)"
else
    tap_not_ok "outage loses nothing, exactly once" "$out" \
        "$(tail -n 5 "$TEST_TMP/outage.log")"
fi
check "outage is logged at WARN" \
    grep -q 'level=warn.*component=kafka' "$TEST_TMP/outage.log"
check "stop reports every event delivered" \
    grep -q "delivered=$total " "$TEST_TMP/outage.log"
check_eq "file publisher wrote every event" "$total" \
    "$(wc -l <"$TEST_TMP/local.jsonl")"
tap_done
