#!/usr/bin/env bash
# fce ring create and inspect through the binary: output, exit codes and
# the error messages an operator sees for bad sizes and damaged files.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

fce=$BIN/fce
ring=$TEST_TMP/events.ring
tap_plan 17

out=$("$fce" ring create "$ring" --capacity 64KiB --max-record 4KiB 2>&1)
check_eq "create exits 0" 0 $?
check_eq "create reports the sizes" \
    "created ring $ring: capacity 65536 bytes, max record 4096 bytes" "$out"

out=$("$fce" ring create "$ring" --capacity=64KiB --max-record=4KiB 2>&1)
check "create again keeps the ring" grep -q "kept existing ring" <<<"$out"

out=$("$fce" ring create "$ring" --capacity 128KiB --max-record 4KiB 2>&1)
check_eq "create with other sizes exits 1" 1 $?
check "other sizes name both" grep -q "capacity 65536 and max record 4096, not 131072" <<<"$out"

out=$("$fce" ring inspect "$ring" 2>&1)
check_eq "inspect exits 0" 0 $?
check "inspect prints capacity" grep -Eq '^capacity +65536 bytes$' <<<"$out"
check "inspect prints fill" grep -Eq '^fill +0 bytes \(0\.00%\)$' <<<"$out"
check "inspect prints counters" grep -Eq '^times full +0$' <<<"$out"
check "inspect prints the producer" grep -Eq '^producer +not attached$' <<<"$out"

out=$("$fce" ring create "$TEST_TMP/zero.ring" --capacity 0 2>&1)
check_eq "capacity 0 exits 2" 2 $?
check "capacity 0 is named" grep -q "capacity 0 for ring" <<<"$out"

out=$("$fce" ring create "$TEST_TMP/x.ring" --capacity 12parsecs 2>&1)
check "bad size is named" grep -q "invalid --capacity '12parsecs'" <<<"$out"

printf 'this is not a ring file, only text padding the header....' >"$TEST_TMP/text"
out=$("$fce" ring inspect "$TEST_TMP/text" 2>&1)
check_eq "inspect of a text file exits 1" 1 $?
check "bad magic is named" grep -Eq "bad magic 0x[0-9a-f]{16} in $TEST_TMP/text: not a ring file" <<<"$out"

"$fce" ring create --help | grep -q -- "--max-record SIZE"
check_eq "create --help exits 0" 0 $?
"$fce" ring frobnicate >/dev/null 2>&1
check_eq "unknown subcommand exits 2" 2 $?
tap_done
