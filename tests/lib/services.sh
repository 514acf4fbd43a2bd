# Starts the servers that several test programs share, once per test run:
# each tests/lib/service-NAME.sh defines fce_service_NAME_start and
# fce_service_NAME_stop and exports the address it listens on
# (127.0.0.1 only). tests/run sources this file.

fce_services=()

fce_services_start() {
    local file name rc=0
    local log=${log_dir:-${BUILD:-build}/test-logs}/services.log
    for file in "$FCE_TOP"/tests/lib/service-*.sh; do
        [ -f "$file" ] || continue
        # shellcheck disable=SC1090
        . "$file"
        name=$(basename "$file" .sh)
        name=${name#service-}
        if "fce_service_${name}_start" >>"$log" 2>&1; then
            fce_services+=("$name")
        else
            echo "# service $name did not start" >>"$log"
            rc=1
        fi
    done
    trap fce_services_stop EXIT
    return $rc
}

fce_services_stop() {
    local name
    for name in "${fce_services[@]}"; do
        "fce_service_${name}_stop" || true
    done
}
