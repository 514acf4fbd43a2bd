#!/usr/bin/env bash
# A PublishBatch that fails for one entry only: with aws.maxMessageBytes
# raised above what the topic takes, the corpus's large event rides in a
# batch with others, fauxqs returns HTTP 200 with that entry in Failed
# (SenderFault true), and only that event is dead-lettered while the rest
# of the batch is delivered once.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/fake-aws/lib.sh"
aws_require_fauxqs

tap_plan 5
total=$(corpus_count)
big=valid/052-task-big-input.pb
topic=$(fq create-topic "$(aws_unique partial)")
queue=$(aws_unique partial)
queue_url=$(fq create-queue "$queue")
fq subscribe "$topic" "$queue" --raw >/dev/null

INGEST_PORT=$(free_port)
cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 8MiB
  maxRecord: 1MiB
ingest:
  listen: ["127.0.0.1:$INGEST_PORT"]
  maxBodyBytes: 512KiB
publishers:
  - name: sns-partial
    type: sns
    topicName: $topic
    batch: {linger: 3s, maxRecords: 100}
    aws:
      endpoint: $FCE_FAUXQS_URL
      maxMessageBytes: 1MiB
      maxRequestBytes: 2MiB
YAML

pipeline_start "$TEST_TMP/config.yaml" sns-partial ||
    { tap_not_ok "pipeline starts" "$(cat "$TEST_TMP"/*.log)"; tap_done; }
accepted=$(post_corpus "$INGEST_PORT")
check_eq "ingest accepts every valid corpus request" "$total" "$accepted"
got=$(fq receive "$queue_url" --expect "$total" --wait 15 \
    --out "$TEST_TMP/raw.jsonl")
check_eq "all but the failed entry arrive" $((total - 1)) "$got"
if out=$(fq check --manifest "$MANIFEST" --messages "$TEST_TMP/raw.jsonl" \
    --mode raw --exclude "$big" 2>&1); then
    tap_ok "the rest of the batch arrives exactly once"
else
    tap_not_ok "the rest of the batch arrives exactly once" "$out"
fi
check "publisher drains and exits 0" pipeline_stop
reason=$(python3 -c 'import json, sys
print(" | ".join(json.loads(l)["reason"] for l in open(sys.argv[1])))' \
    "$TEST_TMP/rings/sns-partial.dead.jsonl" 2>&1)
check_eq "only the failed entry is dead-lettered, with its code" \
    "sns InvalidParameter: Message too long" "$reason"
tap_done
