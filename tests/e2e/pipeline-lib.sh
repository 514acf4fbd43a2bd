# Helpers of the supervise-* and pipeline-* tests; source after
# tests/lib/tap.sh. Everything lives in $TEST_TMP and listens on 127.0.0.1.
#
#   pipeline_config FILE [EXTRA_YAML]  a config: rings in $TEST_TMP/rings,
#                                      ingest on $PORT, file publisher
#                                      "local" writing $OUT, plus EXTRA_YAML
#                                      (more publishers: entries)
#   supervise_start CONFIG [ARGS...]   starts scripts/supervise, sets
#                                      $sup_pid, waits for ingest
#   proc_pid NAME                      the last pid the supervisor started
#                                      for NAME (ingest, encoder, publisher-X)
#   supervise_stop                     SIGTERM, waits; sets $sup_status
#   send_list LIST [ARGS...]           pipeline-send.py into $TEST_TMP/acked
#   gen_list DIR LIST [GEN_ARGS...]    fce gen --out DIR, "KIND PATH" lines
#   mock_send WORDS...                 a mock-kafka command, waits for "ok"
#   ring_fill PATH                     "USED RECORDS_IN RECORDS_OUT"

PIPE_DIR=$FCE_TOP/tests/e2e
PORT=$(free_port)
OUT=$TEST_TMP/out/cloudevents.jsonl
RINGS=$TEST_TMP/rings
SUP_LOG=$TEST_TMP/supervise.log
mkdir -p "$TEST_TMP/out"

pipeline_config() {
    cat >"$1" <<YAML
rings:
  directory: $RINGS
  capacity: 16MiB
  maxRecord: 1MiB
ingest:
  listen: ["127.0.0.1:$PORT"]
  maxBodyBytes: 512KiB
supervisor:
  drainTimeout: 20s
  restartBackoff: 100ms
  restartBackoffMax: 2s
publishers:
  - name: local
    type: file
    file:
      path: $OUT
      fsync: ${FSYNC:-never}
${2:-}
YAML
}

supervise_start() {
    spawn "$SUP_LOG" "$FCE_TOP/scripts/supervise" --bin "$BIN" "$@"
    sup_pid=$spawned_pid
    wait_port "$PORT" 20
}

proc_pid() {
    sed -n "s/.*msg=\"started\" proc=$1 pid=\([0-9]*\).*/\1/p" "$SUP_LOG" |
        tail -n 1
}

# Sets $sup_status (not a $(...) call: only this shell can wait for it).
supervise_stop() {
    kill -TERM "$sup_pid" 2>/dev/null
    wait "$sup_pid"
    sup_status=$?
}

send_list() {
    python3 "$PIPE_DIR/pipeline-send.py" --port "$PORT" --list "$1" \
        --acked "$TEST_TMP/acked" "${@:2}"
}

gen_list() {
    local dir=$1 list=$2
    shift 2
    "$BIN/fce" gen --out "$dir" "$@" 2>/dev/null || return 1
    local f kind
    : >"$list"
    for f in "$dir"/*.pb; do
        kind=${f##*-}
        echo "${kind%.pb} $f" >>"$list"
    done
}

# ring_fill PATH: "USED RECORDS_IN RECORDS_OUT" of a ring.
ring_fill() {
    "$BIN/fce" stat --once --tsv --interval 0 "$RINGS" |
        awk -F'\t' -v p="$1" '$1 == "ring" && $2 == p { print $4, $6, $7 }'
}

# mock_send WORDS...: one mock-kafka command (after mock_start); waits for
# its answer and fails unless it is "ok".
mock_send() {
    echo "$*" >&7
    mock_answers=$((mock_answers + 1))
    wait_for 5 sh -c "[ \$(grep -Ec '^(ok|error)' '$TEST_TMP/mock.out') -ge $mock_answers ]" ||
        return 1
    [ "$(grep -E '^(ok|error)' "$TEST_TMP/mock.out" | tail -n 1)" = ok ]
}
