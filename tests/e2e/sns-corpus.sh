#!/usr/bin/env bash
# The whole corpus through ingest, the encoder and the sns backend to
# fauxqs: an SNS topic fanned out to one SQS queue with raw delivery and one
# with the SNS envelope, and a FIFO topic to a FIFO queue. Every accepted
# request arrives exactly once, as the structured CloudEvent the manifest
# describes, with Subject, message attributes and the FIFO group and
# deduplication ids. The corpus's one event over SNS's 256 KiB limit goes
# to the dead-letter file without a request; FIFO deduplication drops the
# corpus's repeats of one CloudEvent id.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/fake-aws/lib.sh"
aws_require_fauxqs

tap_plan 11
total=$(corpus_count)
big=valid/052-task-big-input.pb
delivered=$((total - 1))
fifo_delivered=$(python3 -c 'import json, sys
ids = {e["attributes"]["id"] for e in json.load(open(sys.argv[1]))["entries"]
       if e["expect"] == "accept" and e["file"] != sys.argv[2]}
print(len(ids))' "$MANIFEST" "$big")
topic=$(fq create-topic "$(aws_unique events)")
raw_queue=$(aws_unique raw)
envelope_queue=$(aws_unique envelope)
raw_url=$(fq create-queue "$raw_queue")
envelope_url=$(fq create-queue "$envelope_queue")
fq subscribe "$topic" "$raw_queue" --raw >/dev/null
fq subscribe "$topic" "$envelope_queue" >/dev/null
fifo_topic=$(fq create-topic "$(aws_unique events).fifo")
fifo_queue=$(aws_unique ordered).fifo
fifo_url=$(fq create-queue "$fifo_queue")
fq subscribe "$fifo_topic" "$fifo_queue" --raw >/dev/null

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
  - name: sns-standard
    type: sns
    topicName: $topic
    aws:
      endpoint: $FCE_FAUXQS_URL
      messageAttributes: [type, subject, partitionkey]
  - name: sns-fifo
    type: sns
    topicName: $fifo_topic
    aws: {region: us-east-1, endpoint: $FCE_FAUXQS_URL}
YAML

pipeline_start "$TEST_TMP/config.yaml" sns-standard sns-fifo ||
    { tap_not_ok "pipeline starts" "$(cat "$TEST_TMP"/*.log)"; tap_done; }
accepted=$(post_corpus "$INGEST_PORT")
check_eq "ingest accepts every valid corpus request" "$total" "$accepted"

# receive waits for one more message than expected, to catch extras.
got=$(fq receive "$raw_url" --expect $((delivered + 1)) --wait 15 \
    --out "$TEST_TMP/raw.jsonl")
check_eq "raw queue receives $delivered messages" "$delivered" "$got"
got=$(fq receive "$envelope_url" --expect $((delivered + 1)) --wait 5 \
    --out "$TEST_TMP/env.jsonl")
check_eq "enveloped queue receives $delivered messages" "$delivered" "$got"
got=$(fq receive "$fifo_url" --expect $((fifo_delivered + 1)) --wait 5 \
    --out "$TEST_TMP/fifo.jsonl")
check_eq "FIFO queue receives $fifo_delivered messages" "$fifo_delivered" \
    "$got"

check_messages() {
    local name=$1
    shift
    if out=$(fq check --manifest "$MANIFEST" "$@" 2>&1); then
        tap_ok "$name"
    else
        tap_not_ok "$name" "$out"
    fi
}
check_messages "raw delivery matches the corpus" \
    --messages "$TEST_TMP/raw.jsonl" --mode raw --exclude "$big" \
    --attributes type,subject,partitionkey
check_messages "envelope carries Subject, Message and attributes" \
    --messages "$TEST_TMP/env.jsonl" --mode envelope --subject --exclude "$big" \
    --attributes type,subject,partitionkey
check_messages "FIFO has group and deduplication ids" \
    --messages "$TEST_TMP/fifo.jsonl" --mode raw --fifo --exclude "$big"

# Within one execution (one FIFO group) the events keep the order of ingest.
if out=$(python3 - "$MANIFEST" "$TEST_TMP/fifo.jsonl" "$big" <<'PY'
import json, sys
entries = [e for e in json.load(open(sys.argv[1]))["entries"]
           if e["expect"] == "accept" and e["file"] != sys.argv[3]]
sent, ids = {}, set()
for e in entries:
    if e["attributes"]["id"] in ids:
        continue  # deduplicated by SNS FIFO
    ids.add(e["attributes"]["id"])
    sent.setdefault(e["partition_key"], []).append(e["attributes"]["id"])
got = {}
for line in open(sys.argv[2]):
    m = json.loads(line)
    got.setdefault(m["Attributes"]["MessageGroupId"], []).append(
        json.loads(m["Body"])["id"])
bad = [k for k in sent if sent[k] != got.get(k)]
print("groups out of order: %s" % bad if bad else "ok")
sys.exit(1 if bad else 0)
PY
); then
    tap_ok "FIFO keeps ingest order per execution"
else
    tap_not_ok "FIFO keeps ingest order per execution" "$out"
fi

check "publishers drain and exit 0" pipeline_stop

# dead_letter_reason FILE: the reason of the one dead-lettered record.
dead_letter_reason() {
    python3 -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
print(len(lines), json.loads(lines[0])["reason"] if lines else "")' "$1"
}
for name in sns-standard sns-fifo; do
    got=$(dead_letter_reason "$TEST_TMP/rings/$name.dead.jsonl" 2>&1)
    case $got in
    "1 message of "*" bytes exceeds aws.maxMessageBytes 262144")
        tap_ok "$name dead-letters the oversize event without a request" ;;
    *) tap_not_ok "$name dead-letters the oversize event without a request" \
        "$got" ;;
    esac
done
tap_done
