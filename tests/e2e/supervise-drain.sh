#!/usr/bin/env bash
# The supervisor starts the pipeline in order, and SIGTERM stops ingest
# first and the publishers last once the rings are drained, then exits 0:
# every acknowledged event is in the file publisher's output.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/e2e/pipeline-lib.sh"

tap_plan 12
FSYNC=always pipeline_config "$TEST_TMP/config.yaml"
gen_list "$TEST_TMP/gen" "$TEST_TMP/list" --runs 20 --nodes 5 --seed 11
total=$(wc -l <"$TEST_TMP/list")

if ! supervise_start "$TEST_TMP/config.yaml"; then
    tap_not_ok "ingest listens under the supervisor" "$(cat "$SUP_LOG")"
    tap_done
fi
tap_ok "ingest listens under the supervisor"

order=$(sed -n 's/.*msg="started" proc=\([a-z-]*\).*/\1/p' "$SUP_LOG" |
    tr '\n' ' ')
check_eq "start order publishers, encoder, ingest" \
    "publisher-local encoder ingest " "$order"

attach=$(grep -oE 'msg="(started|attached)" proc=[a-z-]*' "$SUP_LOG" |
    sed 's/msg="\([a-z]*\)" proc=/\1 /' | tr '\n' ',')
check_eq "each consumer attaches before the next stage starts" \
    "started publisher-local,attached publisher-local,started encoder,attached encoder,started ingest," \
    "$attach"

send_out=$(send_list "$TEST_TMP/list" --connections 3)
acked=$(wc -l <"$TEST_TMP/acked")
check_eq "ingest acknowledges every request" "$total" "$acked"

# fce gen's delimited stream, piped into fce replay over the stream
# protocol, is accepted as a whole.
replayed=$("$BIN/fce" gen --stream - --runs 3 --seed 12 2>/dev/null |
    "$BIN/fce" replay --url "http://127.0.0.1:$PORT" - 2>&1 | tail -n 1)
echo "# $replayed"
check "fce replay accepts a generated stream" \
    grep -Eq ': [0-9]+ accepted, 0 rejected, 0 failed' <<<"$replayed"
streamed=$(sed -nE 's/.*: ([0-9]+) accepted.*/\1/p' <<<"$replayed")

# Stop right away, with records still on their way through the rings.
supervise_stop
check_eq "SIGTERM exits 0" 0 "$sup_status"

stops=$(sed -n 's/.*msg="stopping" proc=\([a-z-]*\).*/\1/p' "$SUP_LOG" |
    tr '\n' ' ')
check_eq "stop order ingest, encoder, publishers" \
    "ingest encoder publisher-local " "$stops"
check "log says every ring drained" grep -q 'every ring drained' "$SUP_LOG"

result=$(python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked" \
    --jsonl "$OUT" 2>&1)
check "every acknowledged event is in the file" test $? -eq 0
echo "# $send_out"
echo "# $result"

check_eq "the file holds the HTTP and the replayed events" \
    $((total + ${streamed:-0})) "$(wc -l <"$OUT")"

read -r used _ <<<"$(ring_fill "$RINGS/ingest.ring")"
check_eq "ingest ring is empty" 0 "$used"
read -r used _ <<<"$(ring_fill "$RINGS/local.ring")"
check_eq "publisher ring is empty" 0 "$used"
tap_done
