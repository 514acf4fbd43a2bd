#!/usr/bin/env bash
# The stream protocol end to end on both I/O loops: fce send and fce
# replay (folder, stream file, pipe, --rate), an independent Python client
# that speaks the wire format from docs/ingest.md, and a full ring whose
# sender waits and loses nothing.
set -u
. "$(dirname "$0")/../lib/tap.sh"

CORPUS=$FCE_TOP/tests/data/corpus
DRAIN=$FCE_TOP/$BUILD/bench/ingest-drain
valid_count=$(ls "$CORPUS"/valid/*.pb | wc -l)

records_in() {
    "$BIN/fce" ring inspect "$1" | awk '/^records in/ {print $3}'
}

# start_ingest IO CAPACITY: sets dir, ring, port, sock and ingest_pid. The
# largest corpus file is 226 KB, so records go up to 256 KiB.
start_ingest() {
    dir=$(mktemp -d "$TEST_TMP/$1.XXXX")
    ring=$dir/ingest.ring
    sock=$dir/ingest.sock
    port=$(free_port)
    "$BIN/fce" ring create "$ring" --capacity "$2" --max-record 256KiB \
        >/dev/null
    spawn "$dir/ingest.log" "$BIN/fce-ingest" --io "$1" --ring "$ring" \
        --listen "127.0.0.1:$port" --listen "unix:$sock"
    ingest_pid=$spawned_pid
    wait_port "$port" 10
}

# Writes the corpus as a stream file: the preamble, then one frame each.
write_stream_file() {
    python3 - "$CORPUS" "$1" <<'EOF'
import os, sys
corpus, out = sys.argv[1], sys.argv[2]
def varint(n):
    b = b""
    while n >= 0x80:
        b += bytes([n & 0x7f | 0x80]); n >>= 7
    return b + bytes([n])
blob = b"\x00FCESTR\x01"
for seq, name in enumerate(sorted(os.listdir(os.path.join(corpus, "valid"))), 1):
    kind = 1 + ["workflow", "node", "task"].index(
        next(k for k in ("workflow", "node", "task") if k in name))
    req = open(os.path.join(corpus, "valid", name), "rb").read()
    body = b"\x08" + varint(seq) + b"\x10" + varint(kind) + b"\x1a" + \
        varint(len(req)) + req
    blob += varint(len(body)) + body
open(out, "wb").write(blob)
EOF
}

run_suite() {
    local io=$1 out rc total
    start_ingest "$io" 16MiB

    out=$("$BIN/fce" send --url "127.0.0.1:$port" "$CORPUS"/valid/*.pb)
    rc=$?
    check_eq "$io: fce send exits 0 for the valid corpus" 0 "$rc"
    check_eq "$io: fce send summary" \
        "sent $valid_count files: $valid_count accepted, 0 rejected, 0 failed" \
        "$(tail -1 <<<"$out")"
    check_eq "$io: one accepted line per file" "$valid_count" \
        "$(grep -c '^accepted ' <<<"$out")"
    check_eq "$io: ring holds the corpus" "$valid_count" "$(records_in "$ring")"
    total=$valid_count

    out=$("$BIN/fce" send --unix "$sock" "$CORPUS"/invalid/*.pb \
        "$CORPUS/valid/002-node-start.pb")
    rc=$?
    check_eq "$io: fce send exits 2 when ingest rejects" 2 "$rc"
    check_eq "$io: every invalid file is reported rejected" 8 \
        "$(grep -c '^rejected .*invalid/0' <<<"$out")"
    check "$io: a rejection names the problem" grep -q \
        '^rejected .*002-workflow-empty.pb: event missing' <<<"$out"
    total=$((total + 1))
    check_eq "$io: only the valid file reached the ring" "$total" \
        "$(records_in "$ring")"

    out=$("$BIN/fce" send --http --url "http://127.0.0.1:$port/" --quiet \
        "$CORPUS"/valid/*.pb "$CORPUS/invalid/006-node-bad-utf8.pb")
    rc=$?
    check_eq "$io: fce send --http exits 2 on a rejection" 2 "$rc"
    check "$io: fce send --http reports the 400" grep -q \
        '^rejected .*006-node-bad-utf8.pb: HTTP 400: invalid UTF-8' <<<"$out"
    total=$((total + valid_count))
    check_eq "$io: ring after fce send --http" "$total" "$(records_in "$ring")"

    out=$("$BIN/fce" replay --url "127.0.0.1:$port" "$CORPUS/valid")
    check_eq "$io: fce replay of a folder" 0 "$?"
    check "$io: replay summary counts the folder" grep -q \
        "$valid_count events .* $valid_count accepted, 0 rejected, 0 failed" \
        <<<"$out"
    total=$((total + valid_count))

    write_stream_file "$dir/corpus.fces"
    out=$("$BIN/fce" replay --url "127.0.0.1:$port" "$dir/corpus.fces")
    check_eq "$io: fce replay of a stream file" 0 "$?"
    out=$(cat "$dir/corpus.fces" | "$BIN/fce" replay --unix "$sock" -)
    check_eq "$io: fce replay from a pipe" 0 "$?"
    check "$io: pipe replay counts every frame" grep -q \
        "$valid_count accepted" <<<"$out"
    total=$((total + 2 * valid_count))
    check_eq "$io: ring after the replays" "$total" "$(records_in "$ring")"

    local start end
    start=$(date +%s%N)
    "$BIN/fce" replay --rate 100 --url "127.0.0.1:$port" "$CORPUS/valid" \
        >/dev/null
    end=$(date +%s%N)
    total=$((total + valid_count))
    # 54 events at 100/s take at least 0.53 s.
    check "$io: --rate paces the replay" \
        test $(((end - start) / 1000000)) -ge 500

    # An independent client: Python speaking the wire format directly.
    out=$(python3 - "$port" "$CORPUS" <<'EOF'
import socket, sys
port, corpus = int(sys.argv[1]), sys.argv[2]
def varint(n):
    b = b""
    while n >= 0x80:
        b += bytes([n & 0x7f | 0x80]); n >>= 7
    return b + bytes([n])
def read_varint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]; pos += 1
        value |= (byte & 0x7f) << shift; shift += 7
        if not byte & 0x80:
            return value, pos
def frame(seq, kind, req):
    body = b"\x08" + varint(seq) + b"\x10" + varint(kind) + b"\x1a" + \
        varint(len(req)) + req
    return varint(len(body)) + body
good = open(corpus + "/valid/002-node-start.pb", "rb").read()
bad = open(corpus + "/invalid/001-workflow-truncated.pb", "rb").read()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"\x00FCESTR\x01" + frame(10, 2, good) + frame(11, 1, bad) +
          frame(12, 7, good) + frame(13, 2, good))
data = b""
acks = []
while not acks or acks[-1][0] < 13:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
    if len(data) < 8:
        continue
    pos, acks = 8, []
    while pos < len(data):
        length, start = read_varint(data, pos)
        if start + length > len(data):
            break
        body, fields, p = data[start:start + length], {}, 0
        while p < len(body):
            tag, p = read_varint(body, p)
            if tag & 7 == 2:
                n, p = read_varint(body, p)
                fields[tag >> 3] = body[p:p + n]; p += n
            else:
                fields[tag >> 3], p = read_varint(body, p)
        acks.append((fields.get(1, 0), fields.get(2, 0),
                     fields.get(3, b"").decode()))
        pos = start + length
print(data[:8] == b"\x00FCESTR\x01",
      [(seq, status) for seq, status, _ in acks],
      "truncated" in acks[0][2], "invalid kind 7" in acks[1][2])
EOF
)
    check_eq "$io: python stream client gets per-frame acks" \
        "True [(11, 1), (12, 1), (13, 0)] True True" "$out"
    total=$((total + 2))
    check_eq "$io: ring after the python client" "$total" \
        "$(records_in "$ring")"

    out=$("$BIN/fce" send --url "127.0.0.1:$(free_port)" \
        "$CORPUS/valid/002-node-start.pb" 2>&1)
    check_eq "$io: fce send to a closed port exits 1" 1 "$?"
    check "$io: the error names the address" grep -q \
        'cannot connect to 127.0.0.1:.*Connection refused' <<<"$out"

    kill -TERM "$ingest_pid"
    wait "$ingest_pid"
    check_eq "$io: ingest exits 0 on SIGTERM" 0 "$?"
}

# A ring four times smaller than the send: ingest holds frames while it is full,
# answers BUSY after a second, and the sender resends from there, so
# every event arrives exactly once when a consumer starts late.
full_ring_suite() {
    local io=$1 out rc drain_pid files=()
    start_ingest "$io" 512KiB
    for _ in $(seq 8); do files+=("$CORPUS"/valid/*.pb); done
    local count=${#files[@]}
    timeout 60 "$DRAIN" "$ring" --delay-ms 2500 --count "$count" \
        --check-kinds >"$dir/drain.out" &
    drain_pid=$!
    out=$(timeout 60 "$BIN/fce" send --quiet --url "127.0.0.1:$port" \
        "${files[@]}")
    rc=$?
    check_eq "$io: fce send through a full ring exits 0" 0 "$rc"
    check_eq "$io: every file accepted through a full ring" \
        "sent $count files: $count accepted, 0 rejected, 0 failed" \
        "$(tail -1 <<<"$out")"
    wait "$drain_pid"
    check_eq "$io: the consumer saw each event once, intact" "$count" \
        "$(cat "$dir/drain.out")"
    check_eq "$io: ring committed each event once" "$count" \
        "$(records_in "$ring")"
    check "$io: ingest answered BUSY while full" grep -q \
        '^fce_ingest_rejections_total{reason="ring_full"} [1-9]' \
        <(curl -s "http://127.0.0.1:$port/metrics")
}

tap_plan 56
run_suite uring
run_suite epoll
full_ring_suite uring
full_ring_suite epoll
tap_done
