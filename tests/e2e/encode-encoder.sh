#!/usr/bin/env bash
# fce-encoder between real rings: requests written into the ingest ring
# (fce encode --ring, the record fce-ingest writes) come out of each
# publisher ring as the manifest's CloudEvents, filtered by eventTypes,
# in order; a full publisher ring makes the encoder wait, not drop; SIGTERM
# stops it with status 0.
. "$(dirname "$0")/../lib/tap.sh"

FCE=$BIN/fce
CORPUS=$FCE_TOP/tests/data/corpus
CHECK=$FCE_TOP/tests/helpers/ce_check.py
tap_plan 11

rings=$TEST_TMP/rings
cat >"$TEST_TMP/config.yaml" <<YAML
rings:
  directory: $rings
  capacity: 4MiB
  maxRecord: 512KiB
ingest:
  maxBodyBytes: 256KiB
publishers:
  - name: all
    type: file
    eventTypes: [all]
    file:
      path: $TEST_TMP/all.jsonl
  - name: tasks
    type: file
    eventTypes: [task]
    file:
      path: $TEST_TMP/tasks.jsonl
  - name: small
    type: file
    eventTypes: ["*"]
    ringCapacity: 1100KiB
    file:
      path: $TEST_TMP/small.jsonl
YAML

spawn "$TEST_TMP/encoder.log" "$BIN/fce-encoder" --config "$TEST_TMP/config.yaml"
encoder=$spawned_pid
check "encoder creates its rings" wait_for 10 test -e "$rings/small.ring"

# The corpus in manifest order, six times: about 1.5 MB of records, more
# than the small ring holds, so the encoder has to wait for it.
rounds=6
mapfile -t files < <(ls "$CORPUS"/valid/*.pb)
ok=1
for round in $(seq "$rounds"); do
    for file in "${files[@]}"; do
        kind=$(basename "$file" | cut -d- -f2)
        "$FCE" encode --kind "$kind" --ring "$rings/ingest.ring" "$file" \
            2>>"$TEST_TMP/feed.err" ||
            ok=0
    done
done
check_eq "requests written to the ingest ring" 1 "$ok"

# The small ring fills up: the encoder waits for it (every other ring
# waits with it), until a consumer drains it.
check "encoder waits for the full small ring" wait_for 20 grep -q \
    'publisher ring is full; waiting for room.*publisher=small' \
    "$TEST_TMP/encoder.log"
"$FCE" decode --ring "$rings/small.ring" --json --count $((rounds * ${#files[@]})) \
    --timeout 20000 >"$TEST_TMP/small.out" 2>"$TEST_TMP/small.err" &
small_reader=$!
spawned_pids+=("$small_reader")

# The "all" ring has room for everything: three rounds, in order.
"$FCE" decode --ring "$rings/all.ring" --json --count $((rounds * ${#files[@]})) \
    --timeout 10000 >"$TEST_TMP/all.out" 2>"$TEST_TMP/all.err"
check_eq "all ring has every event" "$((rounds * ${#files[@]}))" \
    "$(wc -l <"$TEST_TMP/all.out")"
if /usr/bin/python3 "$CHECK" --manifest "$CORPUS/manifest.json" \
    --files $(for _ in $(seq "$rounds"); do echo "${files[@]}"; done) \
    <"$TEST_TMP/all.out" >"$TEST_TMP/all.check" 2>&1; then
    tap_ok "all ring events match the manifest in order"
else
    tap_not_ok "all ring events match the manifest in order" \
        "$(head -20 "$TEST_TMP/all.check")"
fi

# The task filter keeps only task events.
task_files=()
for file in "${files[@]}"; do
    case $(basename "$file") in *-task-*) task_files+=("$file") ;; esac
done
task_count=$((rounds * ${#task_files[@]}))
"$FCE" decode --ring "$rings/tasks.ring" --json --count "$task_count" \
    --timeout 10000 >"$TEST_TMP/tasks.out" 2>"$TEST_TMP/tasks.err"
if /usr/bin/python3 "$CHECK" --manifest "$CORPUS/manifest.json" \
    --files $(for _ in $(seq "$rounds"); do echo "${task_files[@]}"; done) \
    <"$TEST_TMP/tasks.out" >"$TEST_TMP/tasks.check" 2>&1; then
    tap_ok "task filter keeps exactly the task events"
else
    tap_not_ok "task filter keeps exactly the task events" \
        "$(head -20 "$TEST_TMP/tasks.check" "$TEST_TMP/tasks.err")"
fi
"$FCE" decode --ring "$rings/tasks.ring" --json --timeout 500 \
    >"$TEST_TMP/tasks.more" 2>/dev/null
check_eq "task ring holds nothing else" 0 "$(wc -l <"$TEST_TMP/tasks.more")"

# After the wait, every event reached the small ring too.
wait "$small_reader"
if /usr/bin/python3 "$CHECK" --manifest "$CORPUS/manifest.json" \
    --files $(for _ in $(seq "$rounds"); do echo "${files[@]}"; done) \
    <"$TEST_TMP/small.out" >"$TEST_TMP/small.check" 2>&1; then
    tap_ok "small ring gets every event after waiting"
else
    tap_not_ok "small ring gets every event after waiting" \
        "$(head -20 "$TEST_TMP/small.check" "$TEST_TMP/small.err")"
fi


kill -TERM "$encoder"
wait "$encoder"
status=$?
check_eq "SIGTERM stops the encoder with status 0" 0 "$status"
check "stop line reports the counts" grep -q \
    "encoder stopped.*records_in=$((rounds * ${#files[@]})) rendered=$((2 * rounds * ${#files[@]} + task_count))" \
    "$TEST_TMP/encoder.log"

# With the encoder gone, its ingest ring is empty: every record was
# released.
"$FCE" decode --ring "$rings/ingest.ring" --json --timeout 300 \
    >"$TEST_TMP/ingest.out" 2>"$TEST_TMP/ingest.err"
check_eq "ingest ring released every record" "0" \
    "$(wc -l <"$TEST_TMP/ingest.out")"
tap_done
