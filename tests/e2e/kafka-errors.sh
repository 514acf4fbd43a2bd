#!/usr/bin/env bash
# Produce errors injected into the mock cluster (rd_kafka_mock_push_request_
# errors on Produce): retriable ones are retried, by librdkafka or, past
# message.timeout.ms, by the driver, and nothing is lost; permanent ones
# and records too large for the producer go to the dead-letter file. Every
# fed event ends up in the topic or the dead-letter file, never both.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 15
corpus_list "$TEST_TMP/list"
corpus=$(corpus_size)
mock_start --brokers 3 --topic errors:2 --topic large:2 ||
    { tap_not_ok "mock cluster starts"; tap_done; }
# One leader and one request in flight: pushed errors are used one by one.
mock_command leader errors 0 1 && mock_command leader errors 1 1

cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 16MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
retry: {initialBackoff: 50ms, maxBackoff: 500ms}
publishers:
  - name: errors
    type: kafka
    topicName: errors
    contentMode: binary
    deadLetter: $TEST_TMP/errors.dead-letter.jsonl
    kafka:
      brokers: ["$BOOTSTRAP"]
      properties:
        message.timeout.ms: "2000"
        retry.backoff.ms: "100"
        max.in.flight: "1"
  - name: large
    type: kafka
    topicName: large
    contentMode: structured
    deadLetter: $TEST_TMP/large.dead-letter.jsonl
    kafka:
      brokers: ["$BOOTSTRAP"]
      properties: {message.max.bytes: "100000"}
YAML

dead_file=$TEST_TMP/errors.dead-letter.jsonl
consumer_start errors "$TEST_TMP/errors.dump"
publisher_start "$TEST_TMP/config.yaml" errors
pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/errors.ring"

dead_count() { cat "$dead_file" 2>/dev/null | wc -l; }
# feed_round N: feeds round N (ids end in #N) and waits until the topic
# and the dead-letter file account for rounds 0..N.
feed_round() {
    "$HELPERS/ce-feed" --ring "$TEST_TMP/rings/errors.ring" \
        --list "$TEST_TMP/list" --repeat 1 --unique --start "$1" >/dev/null
    wait_for 30 accounted $((($1 + 1) * corpus))
}
accounted() {
    [ $(($(dump_count "$TEST_TMP/errors.dump") + $(dead_count))) -ge "$1" ]
}

# Round 0: errors librdkafka retries by itself within message.timeout.ms.
check "retriable errors pushed" mock_command errors produce \
    NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT NOT_ENOUGH_REPLICAS \
    LEADER_NOT_AVAILABLE
check "round 0 delivered" feed_round 0
check_eq "round 0 needs no driver retry" 0 \
    "$(grep -c 'msg="retrying record"' "$TEST_TMP/errors.log")"

# Round 1: more errors than fit in message.timeout.ms (2 s at one
# attempt per 100 ms), so the delivery reports time out and the driver
# publishes the records again after its backoff.
check "60 retriable errors pushed" mock_command errors produce \
    $(printf 'NOT_ENOUGH_REPLICAS %.0s' $(seq 60))
check "round 1 delivered after driver retries" feed_round 1
check "driver retries are logged at WARN" \
    grep -q 'level=warn.*msg="retrying record".*reason=' "$TEST_TMP/errors.log"

# Rounds 2 and 3: one permanent error each fails one produce request.
check "MSG_SIZE_TOO_LARGE pushed" mock_command errors produce \
    MSG_SIZE_TOO_LARGE
check "round 2 accounted for" feed_round 2
too_large=$(dead_count)
check "MSG_SIZE_TOO_LARGE is dead-lettered ($too_large)" test "$too_large" -ge 1
check "INVALID_MSG pushed" mock_command errors produce INVALID_MSG
check "round 3 accounted for" feed_round 3
invalid=$(($(dead_count) - too_large))
check "INVALID_MSG is dead-lettered ($invalid)" test "$invalid" -ge 1
sleep 1
stop_pid "$pid"
stop_pid "$consumer_pid"

out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/errors.dump" \
    --manifest "$MANIFEST" --mode binary --repeat 4 --unique \
    --dead-letter "$dead_file" 2>&1)
if [ $? -eq 0 ]; then
    tap_ok "every event delivered or dead-lettered, once ($out)"
else
    tap_not_ok "every event delivered or dead-lettered, once" "$out" \
        "$(grep -v librdkafka "$TEST_TMP/errors.log" | tail -n 5)"
fi
check "dead-letter lines name reason and event" python3 -c '
import json, sys
reasons = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert d["publisher"] == "errors", d
    assert d["backend"] == "kafka", d
    assert d["event"]["specversion"] == "1.0", d
    assert d["event"]["id"], d
    assert d["seq"] > 0, d
    assert d["attempts"] >= 1, d
    reasons.append(d["reason"].lower())
assert any("too large" in r for r in reasons), reasons
assert any("invalid" in r for r in reasons), reasons
' "$dead_file"

# A record larger than message.max.bytes is rejected by the producer
# before it is sent; the other events are delivered.
publisher_start "$TEST_TMP/config.yaml" large
pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/large.ring"
"$HELPERS/ce-feed" --ring "$TEST_TMP/rings/large.ring" \
    --list "$TEST_TMP/list" >/dev/null
wait_for 20 topic_has large $((corpus - 1))
wait_for 10 test -s "$TEST_TMP/large.dead-letter.jsonl"
stop_pid "$pid"
kafka_dump large "$TEST_TMP/large.dump"
out=$(python3 "$MOCK_DIR/check_topic.py" --dump "$TEST_TMP/large.dump" \
    --manifest "$MANIFEST" --mode structured \
    --dead-letter "$TEST_TMP/large.dead-letter.jsonl" 2>&1)
check "oversized record dead-lettered, rest delivered ($out)" \
    test "$(sed -n 's/.*dead_lettered=\([0-9]*\) missing=0 .*/\1/p' <<<"$out")" = 1
tap_done
