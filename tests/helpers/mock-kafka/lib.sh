# Shell helpers for the publisher and Kafka end-to-end tests; source after
# tests/lib/tap.sh. Everything runs on 127.0.0.1 inside $TEST_TMP.
#
#   corpus_list FILE [BYTES]     "KIND PATH" lines of every accepted request
#                                (only those of at most BYTES bytes)
#   mock_start [ARGS...]         starts mock-kafka, sets $BOOTSTRAP
#   mock_command WORDS...        sends one command, fails unless it says ok
#   kafka_dump TOPIC FILE        every record of TOPIC, in check_topic's form
#   kafka_count TOPIC            how many records TOPIC holds
#   topic_has TOPIC N            whether TOPIC holds N records or more
#   consumer_start TOPIC FILE    a kcat consumer from the beginning that
#                                keeps running; sets $consumer_pid
#   dump_count FILE              complete records a consumer wrote so far
#   dump_has FILE N              whether FILE holds N records or more
#   dump_complete FILE ARGS...   whether check_topic.py ARGS passes on FILE
#                                (for wait_for: duplicates make a count
#                                reach N before the last record arrives)
#   publisher_start CONFIG NAME  starts fce-publisher, sets $publisher_pid
#   stop_pid PID                 SIGTERM and wait; sets $stopped_status
#   ring_released RING           records the ring's consumer released
#
# librdkafka's mock cluster keeps about 5 MB per partition and drops its
# oldest records beyond that, so a test that writes more than that to one
# partition must read it with consumer_start while it is written.

HELPERS=$FCE_TOP/$BUILD/helpers
MOCK_DIR=$FCE_TOP/tests/helpers/mock-kafka
MANIFEST=$FCE_TOP/tests/data/corpus/manifest.json

corpus_list() {
    python3 - "$MANIFEST" "$FCE_TOP/tests/data/corpus" "${2:-}" >"$1" <<'PY'
import json, os, sys
limit = int(sys.argv[3]) if sys.argv[3] else None
for e in json.load(open(sys.argv[1]))["entries"]:
    path = sys.argv[2] + "/" + e["file"]
    if e["expect"] == "accept" and (limit is None
                                    or os.path.getsize(path) <= limit):
        print(e["kind"], path)
PY
}

corpus_size() {
    python3 -c 'import json, sys
print(sum(e["expect"] == "accept" for e in json.load(open(sys.argv[1]))["entries"]))' "$MANIFEST"
}

mock_start() {
    mkfifo "$TEST_TMP/mock.in"
    # Read-write, so opening the FIFO does not wait for the other side.
    exec 7<>"$TEST_TMP/mock.in"
    # Not through spawn: a background command's stdin must be named on
    # the command itself, or bash gives it /dev/null.
    "$HELPERS/mock-kafka" "$@" <&7 >"$TEST_TMP/mock.out" 2>&1 &
    mock_pid=$!
    spawned_pids+=("$mock_pid")
    wait_for 10 grep -q '^bootstrap=' "$TEST_TMP/mock.out" || return 1
    BOOTSTRAP=$(sed -n 's/^bootstrap=//p' "$TEST_TMP/mock.out")
    mock_answers=0
}

mock_answer_count() {
    [ "$(grep -Ec '^(ok|error)' "$TEST_TMP/mock.out")" -ge "$mock_answers" ]
}

mock_command() {
    echo "$*" >&7
    mock_answers=$((mock_answers + 1))
    wait_for 20 mock_answer_count || return 1
    [ "$(grep -E '^(ok|error)' "$TEST_TMP/mock.out" | tail -n 1)" = ok ]
}

kafka_dump() {
    timeout 60 kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q \
        -f '%p %o %K %S\n%k%s\n%h\n' >"$2" 2>"$2.err"
}

kafka_count() {
    timeout 10 kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q \
        -f 'x\n' 2>/dev/null | wc -l
}

consumer_start() {
    # -E: keep consuming through broker errors (the tests cause them).
    kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -E -u -q \
        -f '%p %o %K %S\n%k%s\n%h\n' >"$2" 2>"$2.err" &
    consumer_pid=$!
    spawned_pids+=("$consumer_pid")
}

dump_count() {
    python3 "$MOCK_DIR/check_topic.py" --dump "$1" --count
}

dump_has() {
    [ "$(dump_count "$1")" -ge "$2" ]
}

dump_complete() {
    local dump=$1
    shift
    python3 "$MOCK_DIR/check_topic.py" --dump "$dump" --manifest "$MANIFEST" \
        "$@" >/dev/null 2>&1
}

ring_released() {
    "$BIN/fce" ring inspect "$1" 2>/dev/null |
        sed -n 's/^records out *\([0-9]*\).*/\1/p' | head -n 1
}

publisher_start() {
    spawn "$TEST_TMP/$2.log" "$BIN/fce-publisher" --config "$1" \
        --publisher "$2" "${@:3}"
    publisher_pid=$spawned_pid
}

# topic_has TOPIC N: whether TOPIC holds at least N records (for wait_for).
topic_has() {
    [ "$(kafka_count "$1")" -ge "$2" ]
}

# stop_pid PID: SIGTERM, waits for the exit and sets $stopped_status.
stop_pid() {
    kill -TERM "$1" 2>/dev/null
    wait "$1"
    stopped_status=$?
}
