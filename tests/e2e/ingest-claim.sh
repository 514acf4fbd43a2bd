#!/usr/bin/env bash
# Two fce-ingest processes on one ring. The first claims the producer side
# at startup. The second logs the holder's pid once, stays not ready (503
# on /readyz and on every POST), and takes the ring over within seconds of
# the first one's exit.
set -u
. "$(dirname "$0")/../lib/tap.sh"

CORPUS=$FCE_TOP/tests/data/corpus
ring=$TEST_TMP/ingest.ring
"$BIN/fce" ring create "$ring" --capacity 1MiB --max-record 256KiB >/dev/null

records_in() {
    "$BIN/fce" ring inspect "$ring" | awk '/^records in/ {print $3}'
}

# post PORT: posts a corpus event and prints the status and the body.
post() {
    curl -s -m 5 -w ' %{http_code}' -X POST \
        -H 'Content-Type: application/x-protobuf' \
        --data-binary "@$CORPUS/valid/001-workflow-running.pb" \
        "http://127.0.0.1:$1/api/v1/events/workflows"
}

ready() {
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$1/readyz")" = 200 ]
}

tap_plan 11
first_port=$(free_port)
spawn "$TEST_TMP/first.log" "$BIN/fce-ingest" --ring "$ring" \
    --listen "127.0.0.1:$first_port"
first_pid=$spawned_pid
wait_port "$first_port" 10
check "first ingest is ready" wait_for 5 ready "$first_port"

second_port=$(free_port)
spawn "$TEST_TMP/second.log" "$BIN/fce-ingest" --ring "$ring" \
    --listen "127.0.0.1:$second_port"
second_pid=$spawned_pid
wait_port "$second_port" 10
# Let the second one retry its claim a few times.
sleep 2.5

body=$(curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$second_port/readyz")
check_eq "second ingest: /readyz is 503" 503 "${body##* }"
check "second ingest: /readyz names the holder's pid" \
    grep -q "held by another process (pid $first_pid)" <<<"$body"
check_eq "second ingest: one log line names the holder" 1 \
    "$(grep -c "holder_pid=$first_pid" "$TEST_TMP/second.log")"

body=$(post "$second_port")
check_eq "second ingest: a POST gets 503" 503 "${body##* }"
check "second ingest: the 503 says the ring is held" \
    grep -q "held by another process (pid $first_pid)" <<<"$body"
check_eq "first ingest still accepts" "{} 200" "$(post "$first_port")"
check_eq "only the first ingest's event is in the ring" 1 "$(records_in)"

# The first one exits: the second claims the ring within its retry.
kill -TERM "$first_pid"
wait "$first_pid"
check "second ingest becomes ready after the first exits" \
    wait_for 5 ready "$second_port"
check_eq "second ingest accepts once it holds the ring" "{} 200" \
    "$(post "$second_port")"
check_eq "the ring holds both events" 2 "$(records_in)"
kill -TERM "$second_pid"
wait "$second_pid"
tap_done
