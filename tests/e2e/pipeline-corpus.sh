#!/usr/bin/env bash
# The whole corpus over HTTP, through the supervisor, reaches a file
# publisher (structured JSON) and a Kafka publisher (binary mode, the mock
# cluster, read back with kcat) at the same time, each event with the
# attributes and data of the corpus manifest. The invalid corpus is
# rejected and reaches neither.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/e2e/pipeline-lib.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

# topic_has_all: the topic holds $total records (a function, so wait_for
# counts again on every try).
topic_has_all() {
    [ "$(kafka_count flyte-events)" -ge "$total" ]
}

tap_plan 7
corpus_list "$TEST_TMP/list"
total=$(wc -l <"$TEST_TMP/list")
python3 - "$MANIFEST" "$FCE_TOP/tests/data/corpus" >"$TEST_TMP/invalid" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["expect"] == "reject":
        print(e["kind"], sys.argv[2] + "/" + e["file"])
PY

if ! mock_start --brokers 3 --topic flyte-events:3; then
    tap_not_ok "mock cluster starts" "$(cat "$TEST_TMP/mock.out")"
    tap_done
fi
pipeline_config "$TEST_TMP/config.yaml" "  - name: kafka-main
    type: kafka
    topicName: flyte-events
    contentMode: binary
    kafka:
      brokers: [\"$BOOTSTRAP\"]"
check "config is valid" "$BIN/fce" config check "$TEST_TMP/config.yaml"
supervise_start "$TEST_TMP/config.yaml" ||
    tap_not_ok "supervisor starts" "$(tail -n 20 "$SUP_LOG")"

send_out=$(send_list "$TEST_TMP/list")
check_eq "ingest acknowledges the whole corpus" "$total" \
    "$(wc -l <"$TEST_TMP/acked")"
cp "$TEST_TMP/acked" "$TEST_TMP/acked.valid"
python3 "$PIPE_DIR/pipeline-send.py" --port "$PORT" \
    --list "$TEST_TMP/invalid" --acked "$TEST_TMP/acked.invalid" \
    >"$TEST_TMP/invalid.out"
check_eq "ingest acknowledges no invalid request" 0 \
    "$(wc -l <"$TEST_TMP/acked.invalid")"

wait_for 30 topic_has_all
wait_for 30 sh -c "[ \$(wc -l <'$OUT') -ge $total ]"
timeout 60 kcat -C -b "$BOOTSTRAP" -t flyte-events -o beginning -e -q \
    -f '%K %S\n%k%s\n%h\n' >"$TEST_TMP/kafka.dump" 2>"$TEST_TMP/kcat.err"

if out=$(python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked.valid" \
    --jsonl "$OUT" --manifest "$MANIFEST" 2>&1); then
    tap_ok "file publisher: every event with the manifest's attributes"
else
    tap_not_ok "file publisher: every event with the manifest's attributes" \
        "$out"
fi
echo "# $out"
if out=$(python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked.valid" \
    --kcat-dump "$TEST_TMP/kafka.dump" --manifest "$MANIFEST" 2>&1); then
    tap_ok "kafka publisher: every event with the manifest's attributes"
else
    tap_not_ok "kafka publisher: every event with the manifest's attributes" \
        "$out" "$(tail -n 5 "$TEST_TMP/kcat.err")"
fi
echo "# $out"
check_eq "file holds exactly the corpus" "$total" "$(wc -l <"$OUT")"

supervise_stop
check_eq "SIGTERM exits 0" 0 "$sup_status"
tap_done
