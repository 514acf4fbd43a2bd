# Shell helpers for end-to-end tests: TAP output, temporary folders, free
# ports, waiting for servers, and stopping what the test started (by pid).
#
#   . "$FCE_TOP/tests/lib/tap.sh"
#   tap_plan 3
#   check "ingest answers 200" [ "$status" = 200 ]
#   tap_ok "corpus delivered" / tap_not_ok "corpus delivered" "details"
#
# Every process a test starts goes through spawn, so the exit trap ends
# exactly those processes.

FCE_TOP=${FCE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$FCE_TOP/$BUILD/bin
tap_count=0
tap_failures=0
spawned_pids=()

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fce-test.XXXXXX")

tap_cleanup() {
    local pid
    for pid in "${spawned_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${spawned_pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    done
    if [ "${FCE_KEEP_TMP:-0}" = 1 ]; then
        echo "# kept $TEST_TMP"
    else
        rm -rf "$TEST_TMP"
    fi
}
trap tap_cleanup EXIT

tap_plan() { echo "1..$1"; }

tap_ok() {
    tap_count=$((tap_count + 1))
    echo "ok $tap_count - $1"
}

# tap_not_ok NAME [DETAILS...]: details go out as TAP comments.
tap_not_ok() {
    tap_count=$((tap_count + 1))
    tap_failures=$((tap_failures + 1))
    echo "not ok $tap_count - $1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/#   /'
    done
}

tap_skip() {
    tap_count=$((tap_count + 1))
    echo "ok $tap_count - $1 # SKIP $2"
}

# check NAME COMMAND...: ok when the command succeeds.
check() {
    local name=$1
    shift
    if "$@"; then
        tap_ok "$name"
    else
        tap_not_ok "$name" "command failed: $*"
    fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then
        tap_ok "$1"
    else
        tap_not_ok "$1" "expected: $2" "actual:   $3"
    fi
}

# tap_done: exit status 1 when any check failed.
tap_done() {
    [ "$tap_failures" -eq 0 ]
    exit $?
}

# spawn LOG COMMAND...: starts a background process, records its pid in
# $spawned_pid and in the list the exit trap stops.
spawn() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    spawned_pid=$!
    spawned_pids+=("$spawned_pid")
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: waits until 127.0.0.1:PORT accepts connections.
wait_port() {
    local port=$1 limit=${2:-30} i
    for i in $(seq $((limit * 10))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_for SECONDS COMMAND...: retries the command every 0.1 s.
wait_for() {
    local limit=$1 i
    shift
    for i in $(seq $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
