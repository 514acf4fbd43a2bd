# Shell helpers for the SNS and SQS end-to-end tests; source after
# tests/lib/tap.sh. The tests run the real pipeline (fce-ingest,
# fce-encoder, fce-publisher) against fauxqs on 127.0.0.1, which
# tests/lib/service-fauxqs.sh started for the run.
#
#   aws_require_fauxqs           skips the whole test when fauxqs is absent
#   fq ARGS...                   fauxqs_client.py against $FCE_FAUXQS_URL
#   aws_unique NAME              NAME plus a suffix unique to this test run
#   pipeline_start CONFIG NAMES  starts ingest, the encoder and publishers
#   pipeline_stop                stops them (publishers drain first)
#   post_corpus PORT [KINDS]     sends the accepted corpus requests
#   post_file PORT KIND FILE     sends one request; prints the HTTP status

AWS_HELPERS=$FCE_TOP/tests/helpers/fake-aws
MANIFEST=$FCE_TOP/tests/data/corpus/manifest.json
CORPUS=$FCE_TOP/tests/data/corpus

# Credentials for fauxqs, which checks no signature; IMDS is off so that
# nothing contacts the metadata address.
export AWS_ACCESS_KEY_ID=AKIDFAUXQS0000000000
export AWS_SECRET_ACCESS_KEY=fauxqs-secret-key-not-used-for-anything
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE

aws_require_fauxqs() {
    if [ -z "${FCE_FAUXQS_URL:-}" ]; then
        echo "1..0 # SKIP fauxqs is not running (tests/lib/service-fauxqs.sh)"
        exit 0
    fi
}

fq() {
    if [ "$1" = check ]; then
        python3 "$AWS_HELPERS/fauxqs_client.py" "$@"
    else
        python3 "$AWS_HELPERS/fauxqs_client.py" "$FCE_FAUXQS_URL" "$@"
    fi
}

aws_unique() {
    echo "$1-$$-$RANDOM"
}

pipeline_start() {
    local config=$1 name
    shift
    # The encoder creates the rings, so it starts first.
    spawn "$TEST_TMP/encoder.log" "$BIN/fce-encoder" --config "$config"
    encoder_pid=$spawned_pid
    wait_for 10 test -e "$TEST_TMP/rings/ingest.ring" || return 1
    publisher_pids=()
    for name in "$@"; do
        spawn "$TEST_TMP/$name.log" "$BIN/fce-publisher" --config "$config" \
            --publisher "$name"
        publisher_pids+=("$spawned_pid")
    done
    spawn "$TEST_TMP/ingest.log" "$BIN/fce-ingest" --config "$config"
    ingest_pid=$spawned_pid
    wait_port "$INGEST_PORT" 10
}

# Stops in pipeline order, so the rings drain; returns non-zero when a
# publisher did not exit with status 0.
pipeline_stop() {
    local pid rc=0
    kill -TERM "$ingest_pid" 2>/dev/null
    wait "$ingest_pid" 2>/dev/null
    sleep 0.3
    kill -TERM "$encoder_pid" 2>/dev/null
    wait "$encoder_pid" 2>/dev/null
    for pid in "${publisher_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" || rc=1
    done
    return $rc
}

route_of() {
    case $1 in
    workflow) echo workflows ;;
    node) echo nodes ;;
    task) echo tasks ;;
    esac
}

post_file() {
    curl -s -o /dev/null -w '%{http_code}' -X POST \
        -H 'Content-Type: application/x-protobuf' --data-binary "@$3" \
        "http://127.0.0.1:$1/api/v1/events/$(route_of "$2")"
}

# post_corpus PORT [KINDS]: prints how many requests ingest accepted.
post_corpus() {
    local port=$1 kinds=${2:-workflow,node,task} ok=0 kind file
    while read -r kind file; do
        [[ ",$kinds," == *",$kind,"* ]] || continue
        [ "$(post_file "$port" "$kind" "$CORPUS/$file")" = 200 ] &&
            ok=$((ok + 1))
    done < <(python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["expect"] == "accept":
        print(e["kind"], e["file"])' "$MANIFEST")
    echo "$ok"
}

# corpus_count [KINDS]: accepted corpus requests of those kinds.
corpus_count() {
    python3 -c 'import json, sys
kinds = sys.argv[2].split(",")
print(sum(e["expect"] == "accept" and e["kind"] in kinds
          for e in json.load(open(sys.argv[1]))["entries"]))' \
        "$MANIFEST" "${1:-workflow,node,task}"
}
