#!/usr/bin/env bash
# The supervisor rejects an invalid config before starting anything,
# restarts a killed process, reports a process that crashes in a loop
# while the others keep running, and gives up draining at the deadline.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/e2e/pipeline-lib.sh"

tap_plan 12

# An invalid file: exit 2, the error on stderr, no ring created.
cat >"$TEST_TMP/bad.yaml" <<YAML
rings: {directory: $RINGS}
publishers:
  - name: local
    type: file
    file: {path: $OUT}
    eventTypes: [workflows]
YAML
"$FCE_TOP/scripts/supervise" --bin "$BIN" "$TEST_TMP/bad.yaml" \
    >"$TEST_TMP/bad.log" 2>&1
check_eq "invalid config exits 2" 2 $?
check "the error names the key and the line" \
    grep -q "bad.yaml:6:17: publishers\[0\].eventTypes: 'workflows' is not an event type" \
    "$TEST_TMP/bad.log"
check "nothing was started" test ! -e "$RINGS"

# A killed encoder comes back and events flow again.
pipeline_config "$TEST_TMP/config.yaml"
gen_list "$TEST_TMP/gen" "$TEST_TMP/list" --runs 2 --seed 5
supervise_start "$TEST_TMP/config.yaml" || tap_not_ok "supervisor starts"
first=$(proc_pid encoder)
kill -KILL "$first"
wait_for 10 sh -c "[ -n \"\$(sed -n 's/.*msg=\"started\" proc=encoder pid=\([0-9]*\).*/\1/p' '$SUP_LOG' | sed -n 2p)\" ]"
second=$(proc_pid encoder)
check "killed encoder is restarted" test -n "$second" -a "$second" != "$first"
check "the exit is logged as a warning" \
    grep -q 'level=warn component=supervise msg="process exited; restarting" proc=encoder status=137' \
    "$SUP_LOG"
send_list "$TEST_TMP/list" >/dev/null
wait_for 20 sh -c "[ \$(wc -l <'$OUT') -ge $(wc -l <"$TEST_TMP/list") ]"
check "events flow after the restart" \
    python3 "$PIPE_DIR/pipeline-check.py" --acked "$TEST_TMP/acked" \
    --jsonl "$OUT"
supervise_stop
check_eq "clean stop after a restart exits 0" 0 "$sup_status"

# A publisher that cannot start: its program exits at once, in a loop.
mkdir -p "$TEST_TMP/bin"
for program in fce fce-ingest fce-encoder; do
    ln -s "$BIN/$program" "$TEST_TMP/bin/$program"
done
printf '#!/bin/sh\necho "cannot open backend" >&2\nexit 3\n' \
    >"$TEST_TMP/bin/fce-publisher"
chmod +x "$TEST_TMP/bin/fce-publisher"
sed -i 's/drainTimeout: 20s/drainTimeout: 2s/' "$TEST_TMP/config.yaml"
SUP_LOG=$TEST_TMP/loop.log
spawn "$SUP_LOG" "$FCE_TOP/scripts/supervise" --bin "$TEST_TMP/bin" \
    "$TEST_TMP/config.yaml"
sup_pid=$spawned_pid
wait_port "$PORT" 20
check "crash loop is reported at error level" \
    wait_for 20 grep -q 'level=error component=supervise msg="process is crash looping' "$SUP_LOG"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
check_eq "ingest keeps running meanwhile" 200 "$status"
encoder=$(proc_pid encoder)
check "encoder keeps running meanwhile" kill -0 "$encoder"
send_list "$TEST_TMP/list" >/dev/null
supervise_stop
check_eq "drain past the deadline exits 1" 1 "$sup_status"
check "the undrained ring is named" \
    grep -q "msg=\"drain deadline passed with records left\" proc=publisher-local ring=$RINGS/local.ring" "$SUP_LOG"
tap_done
