#!/usr/bin/env bash
# Multi-process ring stress: a producer and a consumer process pass
# FCE_STRESS_RECORDS (default 10 million) checked records through a small
# ring while this script kills one or both with SIGKILL at random moments
# and restarts them. Fails on any lost or corrupted record, on duplicates
# outside the consumer's unreleased window, and when the run takes longer
# than FCE_STRESS_SECONDS (default 170).
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

total=${FCE_STRESS_RECORDS:-10000000}
limit=${FCE_STRESS_SECONDS:-170}
helper=$FCE_TOP/$BUILD/helpers/ring-stress

tap_plan 9
if [ ! -x "$helper" ] || [ ! -x "$BIN/fce" ]; then
    tap_not_ok "ring-stress helper is built" "missing $helper or $BIN/fce; run make"
    tap_done
fi

# The ring lives in shared memory, as in production; the folder is this
# run's own and goes away with it.
shm_dir=$(mktemp -d /dev/shm/fce-ring-stress.XXXXXX)
trap 'tap_cleanup; rm -rf "$shm_dir"' EXIT
ring=$shm_dir/stress.ring
sink=$TEST_TMP/sink

check "ring created" "$BIN/fce" ring create "$ring" --capacity 256KiB \
    --max-record 4KiB

producer_pid=
consumer_pid=
producer_done=0
consumer_status=
producer_kills=0
consumer_kills=0

# Every other producer uses fences instead of membarrier, so the run also
# covers a peer of each kind and the switches between them.
producer_starts=0
start_producer() {
    producer_starts=$((producer_starts + 1))
    spawn "$TEST_TMP/producer.log" env \
        FCE_RING_MEMBARRIER=$((producer_starts % 2)) \
        "$helper" produce "$ring" "$total"
    producer_pid=$spawned_pid
}

start_consumer() {
    spawn "$TEST_TMP/consumer.log" "$helper" consume "$ring" "$sink" "$total"
    consumer_pid=$spawned_pid
}

# kill_and_restart producer|consumer: SIGKILL, reap, start again.
kill_and_restart() {
    local side=$1 pid
    if [ "$side" = producer ]; then
        pid=$producer_pid
    else
        pid=$consumer_pid
    fi
    kill -0 "$pid" 2>/dev/null || return 0
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ "$side" = producer ]; then
        producer_kills=$((producer_kills + 1))
        start_producer
    else
        consumer_kills=$((consumer_kills + 1))
        start_consumer
    fi
}

# Reaps a side that exited by itself. Returns 1 when the consumer is done.
reap_exited() {
    if [ "$producer_done" = 0 ] && ! kill -0 "$producer_pid" 2>/dev/null; then
        wait "$producer_pid"
        local status=$?
        if [ "$status" = 0 ]; then
            producer_done=1
        else
            echo "# producer exited with status $status; restarting"
            start_producer
        fi
    fi
    if ! kill -0 "$consumer_pid" 2>/dev/null; then
        wait "$consumer_pid"
        consumer_status=$?
        return 1
    fi
    return 0
}

start_producer
start_consumer
started=$SECONDS
while reap_exited; do
    if [ $((SECONDS - started)) -ge "$limit" ]; then
        echo "# time limit of $limit s reached"
        break
    fi
    # A pause, then kill the producer, the consumer or both. The pauses are
    # 2..10 ms until each side was killed 10 times, because a ring in its
    # fast mode passes 10 million records in about a second, and 2..80 ms
    # after that.
    if [ "$producer_kills" -ge 10 ] && [ "$consumer_kills" -ge 10 ]; then
        pause=$((2 + RANDOM % 79))
    else
        pause=$((2 + RANDOM % 9))
    fi
    sleep "0.$(printf '%03d' "$pause")"
    case $((RANDOM % 5)) in
    0 | 1) [ "$producer_done" = 1 ] || kill_and_restart producer ;;
    2 | 3) kill_and_restart consumer ;;
    4)
        [ "$producer_done" = 1 ] || kill_and_restart producer
        kill_and_restart consumer
        ;;
    esac
done
elapsed=$((SECONDS - started))

report=$("$helper" report "$sink")
echo "# $report"
echo "# producer kills=$producer_kills consumer kills=$consumer_kills elapsed=${elapsed}s"
value() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$report"; }

check_eq "consumer finished cleanly" 0 "${consumer_status:-timeout}"
check_eq "every record delivered" "$total" "$(value delivered)"
check_eq "every record checked" 1 "$(($(value checked) >= total))"
check_eq "no record lost" 0 "$(value lost)"
check_eq "no record corrupted" 0 "$(value corrupt)"
check_eq "duplicates only from the unreleased window" 0 \
    "$(value window_violations)"
check_eq "both sides killed at least 10 times" 1 \
    "$((producer_kills >= 10 && consumer_kills >= 10))"
check_eq "restarted consumers re-read unreleased records" 1 \
    "$(($(value duplicates) > 0))"

echo "# $("$BIN/fce" ring inspect "$ring" | tr -s ' ' | tr '\n' ';')"
tap_done
