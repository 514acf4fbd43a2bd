#!/usr/bin/env bash
# Credentials through fce-publisher against the fake token, metadata and
# Pub/Sub servers (tests/helpers/fake-gcp), which verify each JWT with the
# public half of a key made here with openssl. Tokens last 2 s, so a run of
# a few seconds needs several; an injected 401 must cost no event. Every
# run goes over each transport in FCE_PUBSUB_TRANSPORTS (default "grpc
# rest"): gRPC through tests/unit/pubsub/fake-grpc-front.js, a grpc-js
# server that hands each call to the fake with its bearer token. Needs no
# emulator: the fake stores what it accepts.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/pubsub-lib.sh"

read -r -a transports <<<"${FCE_PUBSUB_TRANSPORTS:-grpc rest}"
tap_plan $((15 * ${#transports[@]} + 2))
pubsub_corpus_list "$TEST_TMP/list"
total=$(corpus_total)
email=fce-e2e@fce-e2e.iam.gserviceaccount.com

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$TEST_TMP/key.pem" 2>/dev/null &&
    openssl pkey -in "$TEST_TMP/key.pem" -pubout -out "$TEST_TMP/public.pem" ||
    { tap_not_ok "openssl makes a key pair"; tap_done; }

spawn "$TEST_TMP/fake.log" python3 "$FCE_TOP/tests/helpers/fake-gcp" \
    --public-key "$TEST_TMP/public.pem" --client-email "$email" \
    --key-id e2e-key --token-lifetime 2
fake_pid=$spawned_pid
wait_for 10 grep -q '^port=' "$TEST_TMP/fake.log" ||
    { tap_not_ok "fake-gcp starts" "$(cat "$TEST_TMP/fake.log")"; tap_done; }
port=$(sed -n 's/^port=//p' "$TEST_TMP/fake.log")
fake=http://127.0.0.1:$port

spawn "$TEST_TMP/front.log" node "$FCE_TOP/tests/unit/pubsub/fake-grpc-front.js" "$fake"
wait_for 20 grep -q '^port=' "$TEST_TMP/front.log" ||
    { tap_not_ok "fake-grpc-front starts" "$(cat "$TEST_TMP/front.log")"; tap_done; }
front=http://127.0.0.1:$(sed -n 's/^port=//p' "$TEST_TMP/front.log")

python3 - "$TEST_TMP/key.pem" "$fake/token" "$email" >"$TEST_TMP/key.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "project_id": "fce-e2e",
                  "private_key_id": "e2e-key", "client_email": sys.argv[3],
                  "private_key": open(sys.argv[1]).read(),
                  "token_uri": sys.argv[2]}))
PY

stat() {
    curl -fsS "$fake/_fake/stats" | python3 -c "import json, sys
print(json.load(sys.stdin)['$1'])"
}

# run NAME GCP_YAML: feeds the corpus at 15 events/s (about 4 s) and waits
# until the fake stores $total more messages.
run() {
    local name=$1 before
    before=$(stat messages)
    pubsub_config "$TEST_TMP/$name.yaml" "$name" topic-$name binary "$2"
    pubsub_run "$TEST_TMP/$name.yaml" "$name" --rate 15 ||
        { tap_not_ok "$name: publisher starts"; return 1; }
    wait_for 30 test "$(stat messages)" -ge $((before + total))
    pubsub_stop
    check_eq "$name: publisher exits 0" 0 "$stop_status"
    check_eq "$name: every event delivered" "$total" \
        "$(($(stat messages) - before))"
}

# endpoint TRANSPORT: where that transport reaches the fake.
endpoint() {
    if [ "$1" = grpc ]; then echo "$front"; else echo "$fake"; fi
}

for t in "${transports[@]}"; do
    at="endpoint: \"$(endpoint "$t")\", transport: $t"

    # The JWT-bearer grant from GOOGLE_APPLICATION_CREDENTIALS, one 401 on
    # top.
    tokens=$(stat tokens_issued)
    unauthorized=$(stat publish_unauthorized)
    curl -fsS -X POST -d '{"status": 401, "grpcStatus": "UNAUTHENTICATED", "count": 1}' \
        "$fake/_fake/fail" >/dev/null
    export GOOGLE_APPLICATION_CREDENTIALS=$TEST_TMP/key.json
    run "$t-grant" "{projectId: fce-e2e, $at, orderingKeys: true}"
    unset GOOGLE_APPLICATION_CREDENTIALS
    grant_tokens=$(($(stat tokens_issued) - tokens))
    check "$t-grant: tokens renewed during the run ($grant_tokens)" \
        test "$grant_tokens" -ge 3
    check_eq "$t-grant: no publish with an expired token" "$unauthorized" \
        "$(stat publish_unauthorized)"
    check_eq "$t-grant: every assertion verified" 0 "$(stat token_rejected)"
    check "$t-grant: the 401 was logged and retried" \
        grep -q 'refreshing the token and retrying once' "$TEST_TMP/$t-grant.log"
    check "$t-grant: no token in the log" \
        bash -c "! grep -q 'fake-token-' '$TEST_TMP/$t-grant.log'"

    # The metadata server, as GKE Workload Identity offers it.
    metadata=$(stat metadata_requests)
    export GCE_METADATA_HOST=127.0.0.1:$port
    run "$t-metadata" "{projectId: fce-e2e, $at}"
    unset GCE_METADATA_HOST
    check "$t-metadata: tokens renewed during the run" \
        test "$(($(stat metadata_requests) - metadata))" -ge 2
    check_eq "$t-metadata: every request had Metadata-Flavor" 0 \
        "$(stat metadata_rejected)"

    # Self-signed JWTs: no token endpoint at all.
    tokens=$(stat tokens_issued)
    signed=$(stat self_signed_accepted)
    run "$t-selfsigned" "{projectId: fce-e2e, $at, auth: selfSignedJwt, credentialsFile: \"$TEST_TMP/key.json\"}"
    check "$t-selfsigned: accepted by signature" \
        test "$(stat self_signed_accepted)" -gt "$signed"
    check_eq "$t-selfsigned: no token fetched" "$tokens" "$(stat tokens_issued)"
done

# Ordering keys with the global endpoint: one warning at start. Nothing is
# fed, so nothing is sent to that endpoint.
pubsub_config "$TEST_TMP/global.yaml" global topic-global binary \
    "{projectId: fce-e2e, orderingKeys: true, auth: none}"
mkdir -p "$TEST_TMP/rings"
spawn "$TEST_TMP/global.log" "$BIN/fce-publisher" --config "$TEST_TMP/global.yaml"
publisher_pid=$spawned_pid
check "global: ordering warns about the global endpoint" \
    wait_for 10 grep -q 'ordering keys with the global endpoint' "$TEST_TMP/global.log"
pubsub_stop
check_eq "global: publisher exits 0" 0 "$stop_status"

tap_done
