#!/usr/bin/env bash
# fce-ingest over HTTP/1.1 with curl and Python's http.client as
# independent clients, on both I/O loops (io_uring and epoll): the whole
# corpus, keep-alive and pipelining, the malformed-request table, the
# health endpoints, a Unix socket, and SIGTERM.
set -u
. "$(dirname "$0")/../lib/tap.sh"

CORPUS=$FCE_TOP/tests/data/corpus
valid_count=$(ls "$CORPUS"/valid/*.pb | wc -l)
invalid_count=$(ls "$CORPUS"/invalid/*.pb | wc -l)

# records_in RING: the ring's committed record count, from fce ring inspect.
records_in() {
    "$BIN/fce" ring inspect "$1" | awk '/^records in/ {print $3}'
}

route_of() {
    case "$(basename "$1")" in
    *workflow*) echo workflows ;;
    *node*) echo nodes ;;
    *task*) echo tasks ;;
    esac
}

# start_ingest IO: a ring and an ingest process in a fresh folder; sets
# dir, ring, port, sock and ingest_pid.
start_ingest() {
    dir=$(mktemp -d "$TEST_TMP/$1.XXXX")
    ring=$dir/ingest.ring
    sock=$dir/ingest.sock
    port=$(free_port)
    "$BIN/fce" ring create "$ring" --capacity 16MiB --max-record 1MiB >/dev/null
    spawn "$dir/ingest.log" "$BIN/fce-ingest" --io "$1" --ring "$ring" \
        --listen "127.0.0.1:$port" --listen "unix:$sock" \
        --max-body-bytes 512KiB --max-header-bytes 8KiB
    ingest_pid=$spawned_pid
    wait_port "$port" 10
}

run_suite() {
    local io=$1 status body failures file route
    start_ingest "$io"
    check "$io: ingest listens" kill -0 "$ingest_pid"
    if [ "$io" = uring ]; then
        check "$io: io_uring loop in use" grep -q 'msg="using io_uring"' \
            "$dir/ingest.log"
    else
        check "$io: epoll loop in use" \
            bash -c "! grep -q 'using io_uring' '$dir/ingest.log'"
    fi

    # Every valid corpus file with curl, one connection each.
    failures=""
    for file in "$CORPUS"/valid/*.pb; do
        route=$(route_of "$file")
        body=$(curl -s -w ' %{http_code}' -X POST \
            -H 'Content-Type: application/x-protobuf' \
            --data-binary "@$file" "http://127.0.0.1:$port/api/v1/events/$route")
        [ "$body" = "{} 200" ] || failures+="$file: $body; "
    done
    check_eq "$io: curl posts every valid file with 200 {}" "" "$failures"
    check_eq "$io: ring holds every valid file" "$valid_count" "$(records_in "$ring")"

    # The invalid corpus: 400 with a message, nothing reaches the ring.
    failures=""
    for file in "$CORPUS"/invalid/*.pb; do
        route=$(route_of "$file")
        body=$(curl -s -w ' %{http_code}' -X POST \
            -H 'Content-Type: application/x-protobuf' \
            --data-binary "@$file" "http://127.0.0.1:$port/api/v1/events/$route")
        case "$body" in
        '{"code":400,"error":"Bad Request","message":"'*'"} 400') ;;
        *) failures+="$file: $body; " ;;
        esac
    done
    check_eq "$io: curl gets 400 for every invalid file" "" "$failures"
    check_eq "$io: invalid files add nothing to the ring" "$valid_count" \
        "$(records_in "$ring")"

    # Python http.client: one keep-alive connection for the whole corpus.
    local out
    out=$(python3 - "$port" "$CORPUS" <<'EOF'
import http.client, os, sys
port, corpus = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ok = bad = 0
for sub in ("valid", "invalid"):
    for name in sorted(os.listdir(os.path.join(corpus, sub))):
        kind = next(k for k in ("workflow", "node", "task") if k in name)
        body = open(os.path.join(corpus, sub, name), "rb").read()
        conn.request("POST", "/api/v1/events/%ss" % kind, body,
                     {"Content-Type": "application/protobuf"})
        resp = conn.getresponse()
        data = resp.read()
        if sub == "valid" and resp.status == 200 and data == b"{}":
            ok += 1
        elif sub == "invalid" and resp.status == 400:
            bad += 1
        else:
            print("unexpected", name, resp.status, data)
print(ok, bad)
EOF
)
    check_eq "$io: http.client keep-alive corpus run" \
        "$valid_count $invalid_count" "$out"
    check_eq "$io: ring after http.client run" $((valid_count * 2)) \
        "$(records_in "$ring")"

    # Pipelining: every valid file in one packet, then in 7-byte pieces.
    out=$(python3 - "$port" "$CORPUS" <<'EOF'
import os, socket, sys, time
port, corpus = int(sys.argv[1]), sys.argv[2]
blob = b""
names = sorted(os.listdir(os.path.join(corpus, "valid")))
for name in names:
    kind = next(k for k in ("workflow", "node", "task") if k in name)
    body = open(os.path.join(corpus, "valid", name), "rb").read()
    blob += (b"POST /api/v1/events/%ss HTTP/1.1\r\nHost: t\r\n"
             b"Content-Type: application/x-protobuf\r\n"
             b"Content-Length: %d\r\n\r\n" % (kind.encode(), len(body))) + body
def run(pieces):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    step = pieces or len(blob)
    for n, i in enumerate(range(0, len(blob), step)):
        s.sendall(blob[i:i + step])
        # A pause now and then makes ingest read the pieces separately.
        if pieces and n % 64 == 0:
            time.sleep(0.001)
    got = b""
    while got.count(b"HTTP/1.1 200 OK") < len(names):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got.count(b"HTTP/1.1 200 OK")
print(run(0), run(7))
EOF
)
    check_eq "$io: pipelined requests, one packet and 7-byte pieces" \
        "$valid_count $valid_count" "$out"
    check_eq "$io: ring after pipelining" $((valid_count * 4)) \
        "$(records_in "$ring")"

    # The malformed-request table, over raw sockets.
    out=$(python3 - "$port" <<'EOF'
import socket, sys
port = int(sys.argv[1])
P = b"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
cases = [
    ("bad request line", b"GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400, True),
    ("no version", b"GET /healthz\r\n\r\n", 400, True),
    ("HTTP/2.0 text", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, True),
    ("HTTP/1.2", P.replace(b"HTTP/1.1", b"HTTP/1.2") + b"Content-Type: application/x-protobuf\r\n"
     b"Content-Length: 0\r\n\r\n", 505, True),
    ("HTTP/1.9 GET", b"GET /healthz HTTP/1.9\r\nHost: t\r\n\r\n", 505, True),
    ("unsupported Expect", P + b"Content-Type: application/x-protobuf\r\n"
     b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\nxx", 417, True),
    ("Expect with a second member", b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
     b"Expect: 100-continue, x-y\r\n\r\n", 417, True),
    ("binary garbage", b"\x16\x03\x01\x00\xa5\x01\x00", 400, True),
    ("bad Content-Length", P + b"Content-Type: application/x-protobuf\r\n"
     b"Content-Length: 12abc\r\n\r\n", 400, True),
    ("negative Content-Length", P + b"Content-Length: -5\r\n\r\n", 400, True),
    ("conflicting Content-Length", P + b"Content-Length: 5\r\n"
     b"Content-Length: 7\r\n\r\n", 400, True),
    ("missing Content-Length", P + b"Content-Type: application/x-protobuf"
     b"\r\n\r\n", 411, True),
    ("chunked body", P + b"Content-Type: application/x-protobuf\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, True),
    ("chunked with length", P + b"Content-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n", 400, True),
    ("oversized headers", b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " +
     b"a" * 9000 + b"\r\n\r\n", 431, True),
    ("unknown method", b"BREW /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n\r\n",
     501, False),
    ("known method not allowed", b"PUT /api/v1/events/nodes HTTP/1.1\r\n"
     b"Host: t\r\nContent-Length: 0\r\n\r\n", 405, False),
    ("unknown path", b"GET /api/v1/events/other HTTP/1.1\r\nHost: t\r\n\r\n",
     404, False),
    ("JSON body", P + b"Content-Type: application/json\r\n"
     b"Content-Length: 2\r\n\r\n{}", 415, False),
    ("missing Host", b"GET /healthz HTTP/1.1\r\n\r\n", 400, True),
    ("obsolete line folding", b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
     b"X: a\r\n b\r\n\r\n", 400, True),
    ("body over the limit", P + b"Content-Type: application/x-protobuf\r\n"
     b"Content-Length: 9999999\r\n\r\n", 413, True),
]
bad = []
for name, raw, status, closes in cases:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(raw)
    got = b""
    try:
        while b"\r\n\r\n" not in got or (closes and not got.endswith(b"}")):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    head = got.split(b"\r\n", 1)[0].decode(errors="replace")
    if not head.startswith("HTTP/1.1 %d " % status):
        bad.append("%s: %r" % (name, got[:200]))
    elif (b"Connection: close" in got) != closes:
        bad.append("%s: Connection: close expected %s" % (name, closes))
    elif status == 405 and b"Allow: POST\r\n" not in got:
        bad.append("%s: no Allow header" % name)
    elif status == 415 and b"JSON bodies are not accepted yet" not in got:
        bad.append("%s: 415 message" % name)
    elif status >= 400 and b'"message":"' not in got:
        bad.append("%s: no JSON error message" % name)
    s.close()
print("; ".join(bad) if bad else "all %d cases" % len(cases))
EOF
)
    check_eq "$io: malformed HTTP table" "all 22 cases" "$out"
    check_eq "$io: malformed requests add nothing to the ring" \
        $((valid_count * 4)) "$(records_in "$ring")"

    # Over the limit with the body sent anyway: the 413 must still arrive
    # (ingest lingers instead of resetting the connection).
    out=$(python3 - "$port" <<'EOF'
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
try:
    conn.request("POST", "/api/v1/events/tasks", b"\0" * (3 << 20),
                 {"Content-Type": "application/x-protobuf"})
except (BrokenPipeError, ConnectionResetError) as e:
    pass
resp = conn.getresponse()
print(resp.status, b"maxBodyBytes" in resp.read())
EOF
)
    check_eq "$io: 413 reaches a client that sends the whole body" "413 True" \
        "$out"

    # Health endpoints, metrics and the Unix socket.
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
    check_eq "$io: /healthz" 200 "$status"
    check_eq "$io: /readyz" '{"status":"ready"}' \
        "$(curl -s "http://127.0.0.1:$port/readyz")"
    local metrics
    metrics=$(curl -s "http://127.0.0.1:$port/metrics")
    check "$io: /metrics counts 200s by path" grep -q \
        '^fce_ingest_requests_total{path="/api/v1/events/nodes",status="200"} [1-9]' \
        <<<"$metrics"
    check "$io: /metrics counts rejections by reason" grep -q \
        '^fce_ingest_rejections_total{reason="invalid_event"} 16$' <<<"$metrics"
    check "$io: /metrics shows the ring fill" grep -q \
        '^fce_ring_used_bytes{ring="ingest"} [1-9]' <<<"$metrics"
    body=$(curl -s --unix-socket "$sock" -X POST \
        -H 'Content-Type: application/octet-stream' \
        --data-binary "@$CORPUS/valid/001-workflow-running.pb" \
        http://ingest/api/v1/events/workflows)
    check_eq "$io: POST over the Unix socket" "{}" "$body"

    kill -TERM "$ingest_pid"
    local rc=0
    wait "$ingest_pid" || rc=$?
    check_eq "$io: SIGTERM exits 0" 0 "$rc"
    check "$io: Unix socket removed on exit" test ! -e "$sock"
}

tap_plan 42
run_suite uring
run_suite epoll
tap_done
