#!/usr/bin/env bash
# fce-ingest under its limits on both I/O loops: 1,000 concurrent
# connections, a slowloris client, the idle timeout, the connection limit,
# a full ring over HTTP (503, nothing acknowledged lost), and the epoll
# fallback when a seccomp filter denies io_uring_setup as containers do.
set -u
. "$(dirname "$0")/../lib/tap.sh"

CORPUS=$FCE_TOP/tests/data/corpus

records_in() {
    "$BIN/fce" ring inspect "$1" | awk '/^records in/ {print $3}'
}

# start_ingest IO CAPACITY ARGS...: sets dir, ring, port and ingest_pid.
start_ingest() {
    local io=$1 capacity=$2
    shift 2
    dir=$(mktemp -d "$TEST_TMP/$io.XXXX")
    ring=$dir/ingest.ring
    port=$(free_port)
    "$BIN/fce" ring create "$ring" --capacity "$capacity" --max-record 16KiB \
        >/dev/null
    spawn "$dir/ingest.log" "$BIN/fce-ingest" --io "$io" --ring "$ring" \
        --listen "127.0.0.1:$port" "$@"
    ingest_pid=$spawned_pid
    wait_port "$port" 10
}

stop_ingest() {
    kill -TERM "$ingest_pid"
    wait "$ingest_pid"
}

run_suite() {
    local io=$1 out
    start_ingest "$io" 4MiB --request-timeout 1000 --idle-timeout 1500

    # 1,000 connections open at once, each posting one event.
    out=$(python3 - "$port" "$CORPUS/valid/002-node-start.pb" <<'EOF'
import resource, selectors, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
port, body = int(sys.argv[1]), open(sys.argv[2], "rb").read()
req = (b"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\n"
       b"Content-Type: application/x-protobuf\r\nContent-Length: %d\r\n\r\n"
       % len(body)) + body
socks = []
for _ in range(1000):
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    socks.append(s)
# Every connection is open before any sends, so they are concurrent.
sel = selectors.DefaultSelector()
for s in socks:
    s.sendall(req)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, b"")
ok, buf, deadline = 0, {}, time.time() + 30
while sel.get_map() and time.time() < deadline:
    for key, _ in sel.select(1):
        data = key.fileobj.recv(4096)
        buf[key.fileobj] = buf.get(key.fileobj, b"") + data
        if b"\r\n\r\n{}" in buf[key.fileobj] or not data:
            ok += b"HTTP/1.1 200 OK" in buf[key.fileobj]
            sel.unregister(key.fileobj)
print(ok)
EOF
)
    check_eq "$io: 1000 concurrent connections get 200" 1000 "$out"
    check_eq "$io: ring holds the 1000 events" 1000 "$(records_in "$ring")"
    check "$io: ingest survived 1000 connections" kill -0 "$ingest_pid"

    # Slowloris: a header byte every 100 ms gets 408 after the request
    # timeout (1 s), and the connection is closed.
    out=$(python3 - "$port" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
start, got = time.time(), b""
head = b"POST /api/v1/events/nodes HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 200
s.setblocking(False)
for byte in head:
    try:
        s.send(bytes([byte]))
    except (BrokenPipeError, ConnectionResetError):
        break
    time.sleep(0.1)
    try:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    except BlockingIOError:
        pass
    if time.time() - start > 8:
        break
print(got.split(b"\r\n")[0].decode(), round(time.time() - start) <= 3)
EOF
)
    check_eq "$io: slowloris gets 408 and is cut off" \
        "HTTP/1.1 408 Request Timeout True" "$out"

    # An idle keep-alive connection is closed after the idle timeout.
    out=$(python3 - "$port" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
start = time.time()
data = s.recv(100)
print(data == b"", 1.2 < time.time() - start < 4)
EOF
)
    check_eq "$io: idle connection closed after idleTimeout" "True True" "$out"
    stop_ingest

    # The connection limit: the third connection gets a 503.
    start_ingest "$io" 4MiB --max-connections 2
    out=$(python3 - "$port" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode(), b"maxConnections" in data)
EOF
)
    check_eq "$io: connection over the limit gets 503" \
        "HTTP/1.1 503 Service Unavailable True" "$out"
    stop_ingest

    # A full ring: 503 with Retry-After, and every 200 is in the ring.
    start_ingest "$io" 32KiB
    out=$(python3 - "$port" "$CORPUS/valid/003-node-queued.pb" <<'EOF'
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
body = open(sys.argv[2], "rb").read()
ok = busy = 0
for _ in range(200):
    conn.request("POST", "/api/v1/events/nodes", body,
                 {"Content-Type": "application/x-protobuf"})
    resp = conn.getresponse()
    resp.read()
    if resp.status == 200:
        ok += 1
    elif resp.status == 503 and resp.getheader("Retry-After") == "1":
        busy += 1
print(ok, ok > 0 and busy > 0, ok + busy)
EOF
)
    local accepted=${out%% *}
    check_eq "$io: full ring answers 503 with Retry-After" "True 200" \
        "${out#* }"
    check_eq "$io: every acknowledged event is in the ring" "$accepted" \
        "$(records_in "$ring")"
    stop_ingest
}

# Runs ingest under a seccomp filter that makes io_uring_setup fail with
# EPERM, as Docker's default profile does.
seccomp_suite() {
    dir=$(mktemp -d "$TEST_TMP/seccomp.XXXX")
    ring=$dir/ingest.ring
    port=$(free_port)
    "$BIN/fce" ring create "$ring" --capacity 1MiB --max-record 16KiB >/dev/null
    # A background job reads /dev/null, so the launcher goes in a file.
    cat >"$dir/no-uring.py" <<'EOF'
import ctypes, os, struct, sys
# BPF: load the syscall number; io_uring_setup (425) -> EPERM; else allow.
# The architecture is checked first, so other ABIs are allowed unchanged.
AUDIT_ARCH_X86_64, NR_IO_URING_SETUP = 0xC000003E, 425
def stmt(code, k): return struct.pack("HBBI", code, 0, 0, k)
def jump(code, k, jt, jf): return struct.pack("HBBI", code, jt, jf, k)
LD_W_ABS, JEQ, RET = 0x20, 0x15, 0x06
prog = b"".join([
    stmt(LD_W_ABS, 4), jump(JEQ, AUDIT_ARCH_X86_64, 0, 3),
    stmt(LD_W_ABS, 0), jump(JEQ, NR_IO_URING_SETUP, 0, 1),
    stmt(RET, 0x00050000 | 1),  # SECCOMP_RET_ERRNO | EPERM
    stmt(RET, 0x7FFF0000),      # SECCOMP_RET_ALLOW
])
buf = ctypes.create_string_buffer(prog)
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
assert libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
assert libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                  ctypes.byref(fprog), 0, 0) == 0
os.execv(sys.argv[1], sys.argv[1:])
EOF
    spawn "$dir/ingest.log" python3 "$dir/no-uring.py" "$BIN/fce-ingest" \
        --ring "$ring" --listen "127.0.0.1:$port"
    ingest_pid=$spawned_pid
    if ! wait_port "$port" 10; then
        tap_not_ok "seccomp: ingest starts" "$(cat "$dir/ingest.log")"
        return
    fi
    check_eq "seccomp: one log line says epoll is used" 1 \
        "$(grep -c 'io_uring is not available; using epoll' "$dir/ingest.log")"
    local body
    body=$(curl -s -X POST -H 'Content-Type: application/x-protobuf' \
        --data-binary "@$CORPUS/valid/001-workflow-running.pb" \
        "http://127.0.0.1:$port/api/v1/events/workflows")
    check_eq "seccomp: the epoll fallback serves requests" "{}" "$body"
    check "seccomp: /metrics reports epoll" grep -q 'fce_ingest_info{io="epoll"} 1' \
        <(curl -s "http://127.0.0.1:$port/metrics")
    stop_ingest
}

tap_plan 19
run_suite uring
run_suite epoll
seccomp_suite
tap_done
