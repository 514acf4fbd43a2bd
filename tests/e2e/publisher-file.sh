#!/usr/bin/env bash
# The file backend end to end. Every corpus event becomes one structured
# JSON line, in feed order, with each fsync policy, and strace counts the
# fdatasync calls. A file renamed or removed is reopened at its path, and
# SIGHUP reopens at once. An output folder that appears late is waited
# for, and an invalid fsync value is a configuration error.
. "$(dirname "$0")/../lib/tap.sh"
. "$FCE_TOP/tests/helpers/mock-kafka/lib.sh"

tap_plan 27
corpus_list "$TEST_TMP/list"
corpus=$(corpus_size)
out=$TEST_TMP/out

write_config() {
    cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 8MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
retry: {initialBackoff: 50ms, maxBackoff: 200ms}
publishers:
  - {name: never, type: file, file: {path: $out/never.jsonl, fsync: never}}
  - {name: batch, type: file, file: {path: $out/batch.jsonl, fsync: batch}}
  - {name: always, type: file, file: {path: $out/always.jsonl, fsync: always}}
  - name: interval
    type: file
    file: {path: $out/interval.jsonl, fsync: interval, fsyncInterval: 20ms}
  - name: rotate
    type: file
    file: {path: $out/rotate.jsonl, rotateCheck: 100ms}
  - name: hup
    type: file
    file: {path: $out/hup.jsonl, rotateCheck: 1h}
  - name: late
    type: file
    file: {path: $TEST_TMP/late/events.jsonl}
YAML
}
mkdir -p "$out"
write_config

# feed NAME [REPEAT]: writes the corpus REPEAT times into NAME's ring.
feed() {
    "$HELPERS/ce-feed" --ring "$TEST_TMP/rings/$1.ring" \
        --list "$TEST_TMP/list" --repeat "${2:-1}" >/dev/null
}
lines() { cat "$@" 2>/dev/null | wc -l; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
# check_content FILE... REPEAT: the files together hold the corpus REPEAT
# times, line by line in feed order, as ce_check.py compares it.
check_content() {
    local repeat=${*: -1} files=("${@:1:$#-1}") paths=() i
    for i in $(seq "$repeat"); do
        paths+=($(awk '{print $2}' "$TEST_TMP/list"))
    done
    cat "${files[@]}" | python3 "$FCE_TOP/tests/helpers/ce_check.py" \
        --manifest "$MANIFEST" --files "${paths[@]}"
}

# ---- each fsync policy, under strace ----
declare -A syncs
for policy in never batch always interval; do
    # LeakSanitizer cannot run under ptrace; the other runs still check.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=fdatasync -e signal=none \
        -o "$TEST_TMP/$policy.strace" "$BIN/fce-publisher" \
        --config "$TEST_TMP/config.yaml" --publisher "$policy" \
        >"$TEST_TMP/$policy.log" 2>&1 &
    strace_pid=$!
    spawned_pids+=("$strace_pid")
    wait_for 10 test -e "$TEST_TMP/rings/$policy.ring"
    feed "$policy"
    wait_for 20 has_lines "$out/$policy.jsonl" "$corpus"
    sleep 0.2 # an interval sync after the last batch
    # SIGTERM to the publisher itself; strace exits with it.
    kill -TERM "$(pgrep -P "$strace_pid")"
    wait "$strace_pid"
    check_eq "fsync $policy: publisher exits 0" 0 "$?"
    if problems=$(check_content "$out/$policy.jsonl" 1 2>&1); then
        tap_ok "fsync $policy: file matches the corpus"
    else
        tap_not_ok "fsync $policy: file matches the corpus" "$problems"
    fi
    syncs[$policy]=$(grep -c 'fdatasync(' "$TEST_TMP/$policy.strace")
done
check_eq "fsync never: no fdatasync" 0 "${syncs[never]}"
batches=$("$BIN/fce" stat --once --tsv "$TEST_TMP/rings" 2>/dev/null |
    awk -F'\t' '$2 == "batch" && $3 == "batches" {print $4}')
check_eq "fsync batch: one fdatasync per batch ($batches)" "$batches" \
    "${syncs[batch]}"
check "fsync always: one fdatasync per record (${syncs[always]})" \
    test "${syncs[always]}" -ge "$corpus"
check "fsync interval: synced (${syncs[interval]})" \
    test "${syncs[interval]}" -ge 1

# ---- rotation: renamed, then removed ----
publisher_start "$TEST_TMP/config.yaml" rotate
pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/rotate.ring"
feed rotate
wait_for 20 has_lines "$out/rotate.jsonl" "$corpus"
mv "$out/rotate.jsonl" "$out/rotate.jsonl.1"
check "renamed file is reopened at its path" \
    wait_for 5 test -e "$out/rotate.jsonl"
feed rotate
wait_for 20 has_lines "$out/rotate.jsonl" "$corpus"
rm "$out/rotate.jsonl" # the second round goes with it
check "removed file is created again" wait_for 5 test -e "$out/rotate.jsonl"
feed rotate
wait_for 20 has_lines "$out/rotate.jsonl" "$corpus"
stop_pid "$pid"
check_eq "rotate: publisher exits 0" 0 "$stopped_status"
check_eq "rotated files keep their lines" "$corpus $corpus" \
    "$(lines "$out/rotate.jsonl.1") $(lines "$out/rotate.jsonl")"
check "rotation is logged" \
    grep -q 'msg="output file was rotated; reopening its path"' \
    "$TEST_TMP/rotate.log"
if problems=$(check_content "$out/rotate.jsonl.1" "$out/rotate.jsonl" 2 2>&1)
then
    tap_ok "rotated files hold the corpus in order"
else
    tap_not_ok "rotated files hold the corpus in order" "$problems"
fi

# ---- SIGHUP: with rotateCheck 1h only the signal reopens ----
publisher_start "$TEST_TMP/config.yaml" hup
pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/hup.ring"
feed hup
wait_for 20 has_lines "$out/hup.jsonl" "$corpus"
mv "$out/hup.jsonl" "$out/hup.jsonl.1"
feed hup
wait_for 20 has_lines "$out/hup.jsonl.1" $((2 * corpus))
check "without SIGHUP the renamed file is still written" \
    test ! -e "$out/hup.jsonl"
kill -HUP "$pid"
check "SIGHUP reopens the path" wait_for 5 test -e "$out/hup.jsonl"
feed hup
wait_for 20 has_lines "$out/hup.jsonl" "$corpus"
stop_pid "$pid"
check_eq "hup: publisher exits 0" 0 "$stopped_status"
check "SIGHUP is logged" \
    grep -q 'msg="reopening files after SIGHUP"' "$TEST_TMP/hup.log"
if problems=$(check_content "$out/hup.jsonl.1" "$out/hup.jsonl" 3 2>&1); then
    tap_ok "files around SIGHUP hold the corpus in order"
else
    tap_not_ok "files around SIGHUP hold the corpus in order" "$problems"
fi

# ---- an output folder that does not exist yet ----
publisher_start "$TEST_TMP/config.yaml" late
pid=$publisher_pid
wait_for 10 test -e "$TEST_TMP/rings/late.ring"
feed late
check "missing folder is logged at WARN" wait_for 5 grep -q \
    'level=warn.*msg="cannot open the output file; check that its folder' \
    "$TEST_TMP/late.log"
mkdir "$TEST_TMP/late"
check "events arrive once the folder exists" \
    wait_for 10 has_lines "$TEST_TMP/late/events.jsonl" "$corpus"
stop_pid "$pid"

# ---- invalid fsync value ----
sed -i 's/fsync: never}/fsync: sometimes}/' "$TEST_TMP/config.yaml"
"$BIN/fce-publisher" --config "$TEST_TMP/config.yaml" --publisher never \
    >"$TEST_TMP/invalid.log" 2>&1
check_eq "invalid fsync exits 2" 2 "$?"
check "invalid fsync names the key and value" \
    grep -q 'fsync.*sometimes' "$TEST_TMP/invalid.log"
tap_done
