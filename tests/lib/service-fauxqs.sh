# fauxqs, the SNS/SQS emulator, shared by the tests of one run
# (tests/lib/services.sh sources this file). It runs from the pinned npm
# packages in tests/npm through a wrapper that binds 127.0.0.1 only, at a
# free port, and exports FCE_FAUXQS_URL (http://127.0.0.1:PORT) and
# FCE_FAUXQS_PORT. Tests create their own topics and queues, so runs do
# not share state. fauxqs checks no signatures.

fce_fauxqs_pid=

fce_service_fauxqs_start() {
    local dir=$FCE_TOP/tests/npm
    if [ ! -d "$dir/node_modules/fauxqs" ]; then
        echo "# fauxqs: not installed; run scripts/deps --npm"
        return 1
    fi
    local log port_file
    log=${log_dir:-${BUILD:-build}/test-logs}/fauxqs.log
    port_file=$(mktemp "${TMPDIR:-/tmp}/fce-fauxqs.XXXXXX")
    rm -f "$port_file"
    (cd "$dir" && exec node fauxqs-loopback.mjs "$port_file") \
        >"$log" 2>&1 </dev/null &
    fce_fauxqs_pid=$!

    local i port
    for i in $(seq 300); do
        if [ -s "$port_file" ]; then
            port=$(cat "$port_file")
            rm -f "$port_file"
            if curl -fsS -m 2 "http://127.0.0.1:$port/health" >/dev/null; then
                export FCE_FAUXQS_PORT=$port
                export FCE_FAUXQS_URL=http://127.0.0.1:$port
                echo "# fauxqs: pid $fce_fauxqs_pid on $FCE_FAUXQS_URL"
                return 0
            fi
        fi
        if ! kill -0 "$fce_fauxqs_pid" 2>/dev/null; then
            echo "# fauxqs: exited; see $log"
            fce_fauxqs_pid=
            return 1
        fi
        sleep 0.1
    done
    echo "# fauxqs: no answer on /health within 30 s; see $log"
    fce_service_fauxqs_stop
    return 1
}

fce_service_fauxqs_stop() {
    [ -n "$fce_fauxqs_pid" ] || return 0
    kill -TERM "$fce_fauxqs_pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$fce_fauxqs_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$fce_fauxqs_pid" 2>/dev/null
    fce_fauxqs_pid=
    unset FCE_FAUXQS_URL FCE_FAUXQS_PORT
}
