#!/usr/bin/env bash
# fce-ingest settings from the configuration file and the command line:
# every ingest.listen address is served, and command-line limits are
# parsed and checked as the configuration's are.
set -u
. "$(dirname "$0")/../lib/tap.sh"

# write_config FILE LISTEN...: a configuration with the given addresses.
write_config() {
    local file=$1 address list=""
    shift
    for address in "$@"; do
        list+="${list:+, }\"$address\""
    done
    cat >"$file" <<YAML
rings: {directory: $TEST_TMP/rings, capacity: 4MiB, maxRecord: 1MiB}
ingest:
  listen: [$list]
  maxBodyBytes: 512KiB
publishers:
  - {name: out, type: file, file: {path: $TEST_TMP/out.jsonl}}
YAML
}

healthz_tcp() {
    curl -s -m 5 "http://127.0.0.1:$1/healthz"
}

listen_suite() {
    local io=$1 p1 p2 sock config
    p1=$(free_port)
    p2=$(free_port)
    sock=$TEST_TMP/$io.sock
    config=$TEST_TMP/$io.yaml
    write_config "$config" "127.0.0.1:$p1" "127.0.0.1:$p2" "unix:$sock"
    spawn "$TEST_TMP/$io-listen.log" "$BIN/fce-ingest" --config "$config" \
        --io "$io"
    local pid=$spawned_pid
    wait_port "$p1" 10
    wait_port "$p2" 5
    check_eq "$io: first ingest.listen address serves /healthz" \
        '{"status":"ok"}' "$(healthz_tcp "$p1")"
    check_eq "$io: second ingest.listen address serves /healthz" \
        '{"status":"ok"}' "$(healthz_tcp "$p2")"
    check_eq "$io: unix ingest.listen address serves /healthz" \
        '{"status":"ok"}' \
        "$(curl -s -m 5 --unix-socket "$sock" http://ingest/healthz)"
    check_eq "$io: one log line per listener" 3 \
        "$(grep -c 'msg="listening"\|listening' "$TEST_TMP/$io-listen.log")"
    kill -TERM "$pid"
    wait "$pid"
}

mkdir -p "$TEST_TMP/rings"
tap_plan 8
listen_suite uring
listen_suite epoll
tap_done
