#!/usr/bin/env bash
# The corpus through ingest, the encoder and the sqs backend straight to
# SQS queues on fauxqs: a standard queue with message attributes and a FIFO
# queue. Every accepted request arrives once (SQS takes 1 MiB, so the
# corpus's large event is delivered too), and an event over a lowered
# aws.maxMessageBytes is dead-lettered without a request.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/fake-aws/lib.sh"
aws_require_fauxqs

tap_plan 9
total=$(corpus_count)
big=valid/052-task-big-input.pb
fifo_delivered=$(python3 -c 'import json, sys
print(len({e["attributes"]["id"] for e in json.load(open(sys.argv[1]))["entries"]
           if e["expect"] == "accept"}))' "$MANIFEST")
standard_url=$(fq create-queue "$(aws_unique direct)")
fifo_url=$(fq create-queue "$(aws_unique direct).fifo")
small_url=$(fq create-queue "$(aws_unique small)")

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
  - name: sqs-standard
    type: sqs
    topicName: $standard_url
    aws: {messageAttributes: [type, id, partitionkey], maxInFlight: 4}
  - name: sqs-fifo
    type: sqs
    topicName: $fifo_url
    aws: {endpoint: $FCE_FAUXQS_URL}
  - name: sqs-small
    type: sqs
    topicName: $small_url
    eventTypes: [task]
    aws: {endpoint: $FCE_FAUXQS_URL, maxMessageBytes: 256KiB}
YAML

pipeline_start "$TEST_TMP/config.yaml" sqs-standard sqs-fifo sqs-small ||
    { tap_not_ok "pipeline starts" "$(cat "$TEST_TMP"/*.log)"; tap_done; }
accepted=$(post_corpus "$INGEST_PORT")
check_eq "ingest accepts every valid corpus request" "$total" "$accepted"

# The standard queue's URL host (sqs.us-east-1.localhost) is the endpoint.
got=$(fq receive "$standard_url" --expect $((total + 1)) --wait 15 \
    --out "$TEST_TMP/standard.jsonl")
check_eq "standard queue receives $total messages" "$total" "$got"
got=$(fq receive "$fifo_url" --expect $((fifo_delivered + 1)) --wait 5 \
    --out "$TEST_TMP/fifo.jsonl")
check_eq "FIFO queue receives $fifo_delivered messages" "$fifo_delivered" \
    "$got"

if out=$(fq check --manifest "$MANIFEST" --messages "$TEST_TMP/standard.jsonl" \
    --mode sqs --attributes type,id,partitionkey 2>&1); then
    tap_ok "standard queue matches the corpus, large event included"
else
    tap_not_ok "standard queue matches the corpus, large event included" "$out"
fi
if out=$(fq check --manifest "$MANIFEST" --messages "$TEST_TMP/fifo.jsonl" \
    --mode sqs --fifo 2>&1); then
    tap_ok "FIFO queue has group and deduplication ids"
else
    tap_not_ok "FIFO queue has group and deduplication ids" "$out"
fi

tasks=$(corpus_count task)
got=$(fq receive "$small_url" --expect "$tasks" --wait 5 \
    --out "$TEST_TMP/small.jsonl")
check_eq "eventTypes task and 256KiB limit: all tasks but one arrive" \
    $((tasks - 1)) "$got"
if out=$(fq check --manifest "$MANIFEST" --messages "$TEST_TMP/small.jsonl" \
    --mode sqs --kind task --exclude "$big" 2>&1); then
    tap_ok "limited queue matches the task corpus"
else
    tap_not_ok "limited queue matches the task corpus" "$out"
fi

check "publishers drain and exit 0" pipeline_stop
reason=$(python3 -c 'import json, sys
print(" | ".join(json.loads(l)["reason"] for l in open(sys.argv[1])))' \
    "$TEST_TMP/rings/sqs-small.dead.jsonl" 2>&1)
check_eq "oversize event dead-lettered with its size" \
    "message of 302208 bytes exceeds aws.maxMessageBytes 262144" "$reason"
tap_done
