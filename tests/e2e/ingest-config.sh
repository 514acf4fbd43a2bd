#!/usr/bin/env bash
# fce-ingest settings from the configuration file and the command line.
# Every ingest.listen address is served, and command-line limits are parsed
# and checked as the configuration's are. A body limit larger than the
# ring's maxRecord is rejected at startup, or lowered when the ring appears.
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

# rejects NAME PATTERN ARGS...: fce-ingest exits 2 at once with a message
# that matches the pattern.
rejects() {
    local name=$1 pattern=$2 out rc
    shift 2
    out=$(timeout 10 "$BIN/fce-ingest" --listen "127.0.0.1:$(free_port)" \
        "$@" 2>&1)
    rc=$?
    if [ "$rc" = 2 ] && grep -q -- "$pattern" <<<"$out"; then
        tap_ok "$name"
    else
        tap_not_ok "$name" "exit status: $rc (expected 2)" \
            "expected a message matching: $pattern" "output: $out"
    fi
}

# started_field NAME FIELD EXPECTED ARGS...: fce-ingest starts with the
# arguments and logs FIELD=EXPECTED in its "started" line.
started_field() {
    local name=$1 field=$2 expected=$3 port log
    shift 3
    port=$(free_port)
    log=$(mktemp "$TEST_TMP/started.XXXX")
    spawn "$log" "$BIN/fce-ingest" --listen "127.0.0.1:$port" "$@"
    local pid=$spawned_pid
    wait_port "$port" 10
    check_eq "$name" "$field=$expected" \
        "$(grep -o "$field=[0-9]*" "$log" | head -1)"
    kill -TERM "$pid"
    wait "$pid"
}

# post_head PORT LENGTH [MIB]: sends a POST head announcing LENGTH bytes,
# then up to MIB MiB of the body (default none) while the server reads,
# and prints the status line and the error message of the response.
post_head() {
    python3 - "$1" "$2" "${3:-0}" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
          b"Content-Type: application/x-protobuf\r\n"
          b"Content-Length: %s\r\n\r\n" % sys.argv[2].encode())
chunk = bytes(1 << 20)
try:
    for _ in range(int(sys.argv[3])):
        s.sendall(chunk)
except OSError:
    pass  # the server sent its response and closed
data = b""
try:
    while b"}" not in data:
        part = s.recv(4096)
        if not part:
            break
        data += part
except OSError:
    pass
head, _, body = data.partition(b"\r\n\r\n")
message = json.loads(body)["message"] if body else ""
print(head.split(b"\r\n")[0].decode(), "|", message)
PY
}

peak_rss_kib() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

limits_suite() {
    local ring=$TEST_TMP/limits.ring config=$TEST_TMP/limits.yaml
    "$BIN/fce" ring create "$ring" --capacity 4MiB --max-record 1MiB \
        >/dev/null
    write_config "$config" "127.0.0.1:$(free_port)"

    rejects "negative --idle-timeout is rejected" "cannot be negative" \
        --ring "$ring" --idle-timeout -1
    rejects "negative --request-timeout is rejected" "cannot be negative" \
        --ring "$ring" --request-timeout -5s
    rejects "zero --idle-timeout is rejected" "0 is not allowed" \
        --ring "$ring" --idle-timeout 0
    rejects "--idle-timeout with a bad unit is rejected" \
        "expected a duration such as 250ms" --ring "$ring" --idle-timeout 10x
    rejects "negative --max-body-bytes is rejected" "cannot be negative" \
        --ring "$ring" --max-body-bytes -1
    rejects "negative --max-connections is rejected" "from 1 to 1000000" \
        --ring "$ring" --max-connections -1
    rejects "--max-header-bytes over 1MiB is rejected" "out of range" \
        --ring "$ring" --max-header-bytes 2MiB
    rejects "--max-body-bytes over the ring's maxRecord is rejected" \
        "107374182400 bytes does not fit the maxRecord of 1048576 bytes" \
        --ring "$ring" --max-body-bytes 100GiB
    rejects "--max-body-bytes over rings.maxRecord is rejected" \
        "rings.maxRecord of $config" --config "$config" \
        --ring "$TEST_TMP/absent.ring" --max-body-bytes 100GiB

    started_field "--idle-timeout takes the config's syntax" \
        idle_timeout_ms 10000 --ring "$ring" --idle-timeout 10s
    started_field "--request-timeout takes 1m30s" request_timeout_ms 90000 \
        --ring "$ring" --request-timeout 1m30s
    started_field "--max-body-bytes takes 0.5MiB" max_body_bytes 524288 \
        --ring "$ring" --max-body-bytes 0.5MiB

    # A ring that appears after startup with a smaller maxRecord lowers the
    # limit, and a 1 GiB Content-Length is rejected before any body byte.
    local late=$TEST_TMP/late.ring port out
    port=$(free_port)
    spawn "$TEST_TMP/late.log" "$BIN/fce-ingest" --ring "$late" \
        --listen "127.0.0.1:$port" --max-body-bytes 100GiB
    local pid=$spawned_pid
    wait_port "$port" 10
    "$BIN/fce" ring create "$late" --capacity 4MiB --max-record 1MiB \
        >/dev/null
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"
    check "late ring: the lowered limit is logged with both values" \
        grep -q 'max_body_bytes=107374182400 max_record=1048576' \
        "$TEST_TMP/late.log"
    out=$(post_head "$port" 1073741824 100)
    check_eq "late ring: 1 GiB Content-Length gets 413 at once" \
        "HTTP/1.1 413 Content Too Large | body of 1073741824 bytes exceeds \
the limit of 1048576 bytes (the ring's maxRecord)" "$out"
    check "late ring: 100 MiB of body keep peak RSS under 64 MiB" \
        [ "$(peak_rss_kib "$pid")" -lt 65536 ]
    kill -TERM "$pid"
    wait "$pid"

    # The default limit (4MiB) is lowered to a small ring's maxRecord.
    local small=$TEST_TMP/small.ring
    port=$(free_port)
    "$BIN/fce" ring create "$small" --capacity 64KiB --max-record 16KiB \
        >/dev/null
    spawn "$TEST_TMP/small.log" "$BIN/fce-ingest" --ring "$small" \
        --listen "127.0.0.1:$port"
    pid=$spawned_pid
    wait_port "$port" 10
    out=$(post_head "$port" 20000)
    check_eq "small ring: default limit lowered to maxRecord" \
        "HTTP/1.1 413 Content Too Large | body of 20000 bytes exceeds \
the limit of 16384 bytes (the ring's maxRecord)" "$out"
    kill -TERM "$pid"
    wait "$pid"
}

help_suite() {
    local out
    out=$("$BIN/fce-ingest" --help)
    check_eq "--help exits 0" 0 "$?"
    check "--help lists --help" grep -q -- '^  -h, --help  ' <<<"$out"
    check "--help lists every option" bash -c '
        for option in config listen io ring ring-dir stats-dir \
            max-connections max-header-bytes max-body-bytes idle-timeout \
            request-timeout log-level; do
            grep -q -- "--$option " <<<"$1" || exit 1
        done' _ "$out"
}

mkdir -p "$TEST_TMP/rings"
tap_plan 27
listen_suite uring
listen_suite epoll
limits_suite
help_suite
tap_done
