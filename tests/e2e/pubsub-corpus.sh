#!/usr/bin/env bash
# The corpus through fce-publisher to the Pub/Sub emulator and back with a
# pull subscription: structured mode, binary mode with ordering keys (per-key
# order checked), and binary mode with an attribute limit that sends the
# events with long ids to the dead-letter file. Every scenario runs over
# each transport in FCE_PUBSUB_TRANSPORTS (default "grpc rest").
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/pubsub-lib.sh"

pubsub_need_emulator
read -r -a transports <<<"${FCE_PUBSUB_TRANSPORTS:-grpc rest}"
tap_plan $((10 * ${#transports[@]}))
pubsub_corpus_list "$TEST_TMP/list"
total=$(corpus_total)
suffix=$$

# scenario NAME MODE ORDERING GCP_YAML [CHECK_ARGS...]
scenario() {
    local name=$1 mode=$2 ordering=$3 gcp=$4 topic=$1-$suffix want
    shift 4
    local order_flag=()
    [ "$ordering" = true ] && order_flag=(--ordering)
    "$CLIENT" setup --host "$EMULATOR" --project $PROJECT --topic "$topic" \
        "${order_flag[@]}" ||
        { tap_not_ok "$name: topic and subscription created"; return; }

    pubsub_config "$TEST_TMP/$name.yaml" "$name" "$topic" "$mode" "$gcp"
    pubsub_run "$TEST_TMP/$name.yaml" "$name" ||
        { tap_not_ok "$name: publisher starts" "$(tail -5 "$TEST_TMP/$name.log")"; return; }
    want=$(python3 - "$MANIFEST" "$@" <<'PY'
import json, sys
limit = None
args = sys.argv[2:]
if "--max-attribute-value" in args:
    limit = int(args[args.index("--max-attribute-value") + 1])
n = 0
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["expect"] == "accept" and (limit is None or all(
            len(v.encode()) <= limit for v in e["attributes"].values())):
        n += 1
print(n)
PY
)
    "$CLIENT" pull --host "$EMULATOR" --project $PROJECT --topic "$topic" \
        --count "$want" --timeout 30 --out "$TEST_TMP/$name.messages" >/dev/null
    sleep 0.5
    pubsub_stop
    check_eq "$name: publisher exits 0 on SIGTERM" 0 "$stop_status"
    if out=$("$CLIENT" check --messages "$TEST_TMP/$name.messages" \
        --manifest "$MANIFEST" --mode "$mode" "${order_flag[@]}" \
        --dead-letter "$TEST_TMP/$name.dead.jsonl" "$@" 2>&1); then
        tap_ok "$name: corpus arrives exactly once ($mode, ordering $ordering)"
    else
        tap_not_ok "$name: corpus arrives exactly once ($mode, ordering $ordering)" \
            "$out" "$(tail -n 5 "$TEST_TMP/$name.log")"
    fi
}

# url_pattern TRANSPORT NAME: the start of the URL the log must name.
url_pattern() {
    if [ "$1" = grpc ]; then
        echo "url=http://$EMULATOR/google.pubsub.v1.Publisher/Publish topic=projects/$PROJECT/topics/$2-"
    else
        echo "url=http://$EMULATOR/v1/projects/$PROJECT/topics/$2-"
    fi
}

for t in "${transports[@]}"; do
    scenario "$t-structured" structured false \
        "{projectId: $PROJECT, transport: $t, emulatorHost: \"$EMULATOR\"}"
    check "$t-structured: log names the emulator URL" \
        grep -q "$(url_pattern "$t" "$t-structured")" \
        "$TEST_TMP/$t-structured.log"

    # PUBSUB_EMULATOR_HOST alone selects the emulator and no credentials.
    export PUBSUB_EMULATOR_HOST=$EMULATOR
    scenario "$t-ordered" binary true \
        "{projectId: $PROJECT, transport: $t, orderingKeys: true, maxInFlight: 4}"
    check "$t-ordered: no credentials with the emulator" \
        grep -q 'auth=none' "$TEST_TMP/$t-ordered.log"
    check "$t-ordered: no global-endpoint warning with the emulator" \
        bash -c "! grep -q 'global endpoint' '$TEST_TMP/$t-ordered.log'"
    unset PUBSUB_EMULATOR_HOST

    scenario "$t-limited" binary true \
        "{projectId: $PROJECT, transport: $t, emulatorHost: \"$EMULATOR\", orderingKeys: true, maxAttributeValueBytes: 200}" \
        --max-attribute-value 200
    dead=$(grep -c . "$TEST_TMP/$t-limited.dead.jsonl" 2>/dev/null || echo 0)
    check "$t-limited: some events dead-lettered, some delivered" \
        test "$dead" -gt 0 -a "$dead" -lt "$total"
done
tap_done
