# The Pub/Sub emulator, shared by the tests of one run (tests/lib/services.sh
# sources this file). It listens on 127.0.0.1 at a free port and serves REST
# and gRPC there; FCE_PUBSUB_EMULATOR is its host:port, the form
# PUBSUB_EMULATOR_HOST takes. Tests create their own topics, so runs do not
# share state. Without the emulator nothing starts and the tests skip.

FCE_PUBSUB_EMULATOR_BIN=${FCE_PUBSUB_EMULATOR_BIN:-/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator}
fce_pubsub_emulator_pid=

fce_service_pubsub_start() {
    if [ ! -x "$FCE_PUBSUB_EMULATOR_BIN" ]; then
        echo "# pubsub: emulator not installed at $FCE_PUBSUB_EMULATOR_BIN"
        return 0
    fi
    local port log
    port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
    log=${log_dir:-${BUILD:-build}/test-logs}/pubsub-emulator.log
    "$FCE_PUBSUB_EMULATOR_BIN" --host=127.0.0.1 --port="$port" \
        >"$log" 2>&1 </dev/null &
    fce_pubsub_emulator_pid=$!

    local i
    for i in $(seq 600); do
        if curl -fsS -m 2 "http://127.0.0.1:$port/" >/dev/null 2>&1; then
            export FCE_PUBSUB_EMULATOR=127.0.0.1:$port
            echo "# pubsub: emulator pid $fce_pubsub_emulator_pid on $FCE_PUBSUB_EMULATOR"
            return 0
        fi
        if ! kill -0 "$fce_pubsub_emulator_pid" 2>/dev/null; then
            echo "# pubsub: emulator exited; see $log"
            fce_pubsub_emulator_pid=
            return 1
        fi
        sleep 0.1
    done
    echo "# pubsub: emulator did not answer GET / within 60 s; see $log"
    fce_service_pubsub_stop
    return 1
}

fce_service_pubsub_stop() {
    [ -n "$fce_pubsub_emulator_pid" ] || return 0
    # The launcher execs java, but stop any child it left as well.
    local pids pid
    # pgrep fails when there is no child; callers may run under set -e.
    pids="$fce_pubsub_emulator_pid $(pgrep -P "$fce_pubsub_emulator_pid" 2>/dev/null || true)"
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    fce_pubsub_emulator_pid=
    unset FCE_PUBSUB_EMULATOR
}
