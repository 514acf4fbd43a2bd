# Shell helpers for the Pub/Sub end-to-end tests; source after
# tests/lib/tap.sh. Not a test itself (not executable).
#
#   pubsub_need_emulator          sets $EMULATOR, starting one when the test
#                                 runs alone; skips (77) without one, except
#                                 under CI=true, where that is a failure
#   pubsub_config FILE NAME TOPIC MODE GCP_YAML
#                                 writes a one-publisher configuration
#   pubsub_run CONFIG NAME        starts fce-publisher, feeds the corpus
#   pubsub_stop                   SIGTERM; sets $stop_status

CLIENT=$FCE_TOP/tests/helpers/fake-gcp-client
FEED=$FCE_TOP/$BUILD/helpers/ce-feed
MANIFEST=$FCE_TOP/tests/data/corpus/manifest.json
PROJECT=fce-e2e

pubsub_corpus_list() {
    python3 - "$MANIFEST" "$FCE_TOP/tests/data/corpus" >"$1" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["expect"] == "accept":
        print(e["kind"], sys.argv[2] + "/" + e["file"])
PY
}

pubsub_need_emulator() {
    if [ -z "${FCE_PUBSUB_EMULATOR:-}" ]; then
        # shellcheck source=../lib/service-pubsub.sh
        . "$FCE_TOP/tests/lib/service-pubsub.sh"
        log_dir=$TEST_TMP fce_service_pubsub_start >"$TEST_TMP/emulator.out"
        if [ -n "${FCE_PUBSUB_EMULATOR:-}" ]; then
            own_emulator=1
            trap 'fce_service_pubsub_stop; tap_cleanup' EXIT
        fi
    fi
    if [ -z "${FCE_PUBSUB_EMULATOR:-}" ]; then
        if [ "${CI:-}" = true ]; then
            echo "1..1"
            echo "not ok 1 - the Pub/Sub emulator is required under CI"
            sed 's/^/# /' "$TEST_TMP/emulator.out"
            exit 1
        fi
        echo "# SKIP the Pub/Sub emulator is not installed"
        sed 's/^/# /' "$TEST_TMP/emulator.out"
        exit 77
    fi
    EMULATOR=$FCE_PUBSUB_EMULATOR
}

# pubsub_config FILE NAME TOPIC MODE GCP_YAML [EXTRA_YAML]
pubsub_config() {
    cat >"$1" <<YAML
rings:
  directory: $TEST_TMP/rings
  capacity: 16MiB
  maxRecord: 1MiB
ingest:
  maxBodyBytes: 512KiB
publishers:
  - name: $2
    type: pubsub
    topicName: $3
    contentMode: $4
    deadLetter: $TEST_TMP/$2.dead.jsonl
    retry: {initialBackoff: 50ms, maxBackoff: 1s}
    gcp: $5
${6:-}
YAML
}

pubsub_run() {
    mkdir -p "$TEST_TMP/rings"
    spawn "$TEST_TMP/$2.log" "$BIN/fce-publisher" --config "$1" \
        --publisher "$2"
    publisher_pid=$spawned_pid
    wait_for 10 test -e "$TEST_TMP/rings/$2.ring" || return 1
    # ce-feed is a test tool; a leak report of its own (sanitizer builds)
    # must not fail the publisher's test.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        "$FEED" --ring "$TEST_TMP/rings/$2.ring" --list "$TEST_TMP/list" \
        "${@:3}" >/dev/null
}

pubsub_stop() {
    kill -TERM "$publisher_pid" 2>/dev/null
    wait "$publisher_pid"
    stop_status=$?
}

corpus_total() {
    wc -l <"$TEST_TMP/list" | tr -d ' '
}
