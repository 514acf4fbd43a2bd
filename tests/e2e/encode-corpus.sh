#!/usr/bin/env bash
# fce encode and fce decode over the corpus: every accepted request renders
# exactly the manifest's CloudEvent and passes the CloudEvents checks of
# tests/helpers/ce_check.py; every rejected one names its reason; binary
# mode lists the binding's headers; decode prints what protoc-c --decode
# prints for the same bytes.
. "$(dirname "$0")/../lib/tap.sh"

FCE=$BIN/fce
CORPUS=$FCE_TOP/tests/data/corpus
CHECK=$FCE_TOP/tests/helpers/ce_check.py
MANIFEST=$CORPUS/manifest.json
tap_plan 17

# ---- structured mode, per kind ----
for kind in workflow node task; do
    files=("$CORPUS"/valid/*-"$kind"-*.pb)
    "$FCE" encode --kind "$kind" "${files[@]}" >"$TEST_TMP/$kind.jsonl" \
        2>"$TEST_TMP/$kind.err"
    status=$?
    if [ "$status" = 0 ] &&
        /usr/bin/python3 "$CHECK" --manifest "$MANIFEST" --files "${files[@]}" \
            <"$TEST_TMP/$kind.jsonl" >"$TEST_TMP/$kind.check" 2>&1; then
        tap_ok "encode $kind corpus matches manifest (${#files[@]} files)"
    else
        tap_not_ok "encode $kind corpus matches manifest" "exit $status" \
            "$(head -20 "$TEST_TMP/$kind.err" "$TEST_TMP/$kind.check")"
    fi
done

# ---- rejected requests ----
bad=0 details=()
while IFS=$'\t' read -r file kind reason; do
    "$FCE" encode --kind "$kind" "$CORPUS/$file" >"$TEST_TMP/out" \
        2>"$TEST_TMP/err"
    status=$?
    if [ "$status" != 2 ] || [ -s "$TEST_TMP/out" ] ||
        ! grep -qF "$file: rejected: " "$TEST_TMP/err" ||
        ! grep -qF "$reason" "$TEST_TMP/err"; then
        bad=$((bad + 1))
        details+=("$file (exit $status, expected '$reason'): $(cat "$TEST_TMP/err")")
    fi
done < <(/usr/bin/python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["expect"] == "reject":
        print("\t".join((e["file"], e["kind"], e["reason"])))' "$MANIFEST")
if [ "$bad" = 0 ]; then
    tap_ok "encode rejects every invalid file naming the reason"
else
    tap_not_ok "encode rejects every invalid file naming the reason" \
        "${details[@]}"
fi

"$FCE" encode --kind workflow "$CORPUS/valid/001-workflow-running.pb" \
    "$CORPUS/invalid/001-workflow-truncated.pb" \
    "$CORPUS/valid/023-workflow-succeeded.pb" >"$TEST_TMP/mixed" \
    2>"$TEST_TMP/mixed.err"
status=$?
check_eq "mixed files exit 2" 2 "$status"
check_eq "mixed files print the valid ones" 2 "$(wc -l <"$TEST_TMP/mixed")"
check "mixed files name the rejected file" \
    grep -q 'invalid/001-workflow-truncated.pb: rejected: truncated message' \
    "$TEST_TMP/mixed.err"

"$FCE" encode --kind task "$CORPUS/valid/005-task-queued.pb" >/dev/null \
    2>"$TEST_TMP/kind.err"
status=$?
"$FCE" encode --kind job "$CORPUS/valid/005-task-queued.pb" >/dev/null \
    2>"$TEST_TMP/kind.err"
check_eq "bad --kind exits 2 after a good run exits 0" "0 2" "$status $?"

# ---- binary mode ----
file=$CORPUS/valid/015-task-retryable.pb
"$FCE" encode --kind task --binary "$file" >"$TEST_TMP/kafka"
expected_names="ce_specversion ce_id ce_source ce_type ce_subject ce_time content-type ce_jsonschemaurl key value"
check_eq "kafka binary header names" "$expected_names" \
    "$(cut -d: -f1 "$TEST_TMP/kafka" | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//')"
expected_id=$(/usr/bin/python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["file"] == "valid/015-task-retryable.pb":
        print(e["attributes"]["id"])' "$MANIFEST")
check_eq "kafka binary ce_id value" "ce_id: $expected_id" \
    "$(grep '^ce_id: ' "$TEST_TMP/kafka")"
check "kafka binary content-type" grep -qx \
    'content-type: application/protobuf' "$TEST_TMP/kafka"
"$FCE" encode --kind task --binary --binding pubsub "$file" >"$TEST_TMP/pubsub"
check_eq "pubsub binary attribute names" \
    "ce-specversion ce-id ce-source ce-type ce-subject ce-time content-type ce-jsonschemaurl ordering key data" \
    "$(cut -d: -f1 "$TEST_TMP/pubsub" | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//')"

# ---- decode ----
differences=()
for file in "$CORPUS"/valid/*.pb; do
    name=$(basename "$file")
    kind=$(echo "$name" | cut -d- -f2)
    case $kind in
    workflow) message=WorkflowExecutionEventRequest ;;
    node) message=NodeExecutionEventRequest ;;
    task) message=TaskExecutionEventRequest ;;
    esac
    "$FCE" encode --kind "$kind" "$file" | "$FCE" decode >"$TEST_TMP/decoded" ||
        differences+=("$name: decode failed")
    # protoc-c writes non-ASCII and bytes with octal escapes, fce with \x
    # and raw UTF-8, so lines holding either are left out of the compare.
    # protoc-c orders fields by number, fce by declaration as Go's text
    # format does, so the lines are compared sorted.
    sed -n '/^data: /,$p' "$TEST_TMP/decoded" | sed '1d;s/^  //;/^$/d' |
        grep -v -P '\\|[^\x00-\x7f]' | sort >"$TEST_TMP/ours"
    protoc-c --decode="flyteidl.admin.$message" -I "$FCE_TOP/proto" \
        "$FCE_TOP/proto/flyteidl/admin/event.proto" <"$file" |
        grep -v -P '\\|[^\x00-\x7f]' | sort >"$TEST_TMP/theirs"
    if ! diff -q "$TEST_TMP/ours" "$TEST_TMP/theirs" >/dev/null; then
        differences+=("$name: $(diff "$TEST_TMP/ours" "$TEST_TMP/theirs" | head -5)")
    fi
done
if [ "${#differences[@]}" = 0 ]; then
    tap_ok "decode prints what protoc-c --decode prints (54 files)"
else
    tap_not_ok "decode prints what protoc-c --decode prints" "${differences[@]}"
fi

printf '%s\n' '{"specversion":"1.0","id":"x"' \
    "$(head -1 "$TEST_TMP/workflow.jsonl")" \
    '{"specversion":"1.0","type":"com.flyte.resource.node","data":{}}' \
    >"$TEST_TMP/bad.jsonl"
"$FCE" decode "$TEST_TMP/bad.jsonl" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
status=$?
check_eq "decode exits 2 on bad lines" 2 "$status"
check "decode names the line of bad JSON" grep -q \
    'bad.jsonl:1: invalid JSON' "$TEST_TMP/bad.err"
check "decode rejects inline data on line 3" grep -q \
    'bad.jsonl:3: data is inline JSON' "$TEST_TMP/bad.err"

# ---- the checker can fail ----
printf '%s\n' \
    '{"specversion":"1.0","id":"a","source":"s","type":"t","data":1,"data_base64":"AA=="}' \
    '{"specversion":"1.0","id":"a","source":"s","type":"t","Bad_Name":"x","time":"2024-02-30T00:00:00Z"}' \
    '{"specversion":"1.0","id":"a\u0085","source":"s","data_base64":"AA="}' |
    /usr/bin/python3 "$CHECK" >/dev/null 2>"$TEST_TMP/negative"
status=$?
check_eq "checker rejects broken events" "1 6" \
    "$status $(wc -l <"$TEST_TMP/negative")"
tap_done
