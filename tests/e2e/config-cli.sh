#!/usr/bin/env bash
# fce config check|dump|docs, fce plan, fce gen and fce stat through the
# real binary: exit codes, messages with lines and key paths, masked
# secrets, the committed docs/configuration.md, start order, determinism.
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 27
fce=$BIN/fce
data=$FCE_TOP/tests/data/config

for example in flyteadmin-aws flyteadmin-kafka flyteadmin-gcp-project; do
    check "$example loads" "$fce" config check "$data/$example.yaml"
done
"$fce" config check "$data/flyteadmin-gcp.yaml" >"$TEST_TMP/gcp.out" 2>&1
check_eq "documented gcp example exits 2" 2 $?
check "it names gcp.projectId with its line" grep -q \
    'flyteadmin-gcp.yaml:4:5: cloudEvents.gcp.projectId: missing' \
    "$TEST_TMP/gcp.out"

cat >"$TEST_TMP/secret.yaml" <<'YAML'
cloudEvents:
  enable: true
  type: kafka
  kafka:
    brokers: [127.0.0.1:9092]
    version: 3.7.0
    saslConfig: {enabled: true, user: flyte, password: s3cr3t-value}
  eventsPublisher: {topicName: flyte-events}
  futureKey: 1
YAML
"$fce" config check "$TEST_TMP/secret.yaml" >"$TEST_TMP/check.out" 2>&1
check_eq "unknown key in cloudEvents is a warning" 0 $?
check "the warning names the key and line" grep -q \
    'warning: .*secret.yaml:9:3: cloudEvents.futureKey: unknown key, ignored' \
    "$TEST_TMP/check.out"
"$fce" config check --strict "$TEST_TMP/secret.yaml" >"$TEST_TMP/strict.out" \
    2>"$TEST_TMP/strict.err"
check_eq "--strict fails on the warning" 2 $?
check_eq "--strict prints no valid line" "" "$(cat "$TEST_TMP/strict.out")"
check "--strict names the warning count" grep -q \
    'invalid with --strict: 1 warning(s)' "$TEST_TMP/strict.err"

# Settings the kafka publisher would reject at open fail the check, so the
# supervisor stops before it starts anything.
cat >"$TEST_TMP/kafka-bad.yaml" <<YAML
rings: {directory: $TEST_TMP/rings}
publishers:
  - name: k
    type: kafka
    topicName: t
    kafka: {brokers: ["127.0.0.1:99999"], properties: {no.such.property: "1"}}
YAML
"$fce" config check "$TEST_TMP/kafka-bad.yaml" >/dev/null 2>"$TEST_TMP/kafka.err"
check_eq "bad kafka settings exit 2" 2 $?
check "the broker port is named" grep -q \
    "publishers\[0\].kafka.brokers: '127.0.0.1:99999' has no port" \
    "$TEST_TMP/kafka.err"
check "the unknown property is named" grep -q \
    "publishers\[0\].kafka.properties.no.such.property: No such" \
    "$TEST_TMP/kafka.err"
"$fce" config dump "$TEST_TMP/secret.yaml" >"$TEST_TMP/dump.yaml" \
    2>>"$TEST_TMP/check.out"
check "dump masks the password" grep -q 'password: "\*\*\*"' \
    "$TEST_TMP/dump.yaml"
check "the secret appears in no output" sh -c \
    "! grep -q s3cr3t-value '$TEST_TMP/dump.yaml' '$TEST_TMP/check.out'"
check "the dump loads again" "$fce" config check "$TEST_TMP/dump.yaml"

"$fce" config docs >"$TEST_TMP/configuration.md"
check "docs/configuration.md matches fce config docs" \
    cmp "$FCE_TOP/docs/configuration.md" "$TEST_TMP/configuration.md"

cat >"$TEST_TMP/two.yaml" <<YAML
rings: {directory: $TEST_TMP/rings}
publishers:
  - {name: audit, type: file, file: {path: $TEST_TMP/a.jsonl}}
  - {name: copy, type: file, file: {path: $TEST_TMP/b.jsonl}}
YAML
order=$("$fce" plan --shell "$TEST_TMP/two.yaml" |
    awk -F'\t' '$1 == "process" { printf "%s ", $2 }')
check_eq "plan starts publishers, then encoder, then ingest" \
    "publisher-audit publisher-copy encoder ingest " "$order"
rings=$("$fce" plan --shell "$TEST_TMP/two.yaml" | awk -F'\t' '$1 == "ring" { printf "%s ", $2 }')
check_eq "plan lists one ring per publisher plus ingest" \
    "$TEST_TMP/rings/ingest.ring $TEST_TMP/rings/audit.ring $TEST_TMP/rings/copy.ring " \
    "$rings"
"$fce" plan "$data/flyteadmin-gcp.yaml" >/dev/null 2>&1
check_eq "plan of an invalid file exits 2" 2 $?

"$fce" gen --stream "$TEST_TMP/a.stream" --runs 3 --seed 9 2>/dev/null
"$fce" gen --stream "$TEST_TMP/b.stream" --runs 3 --seed 9 2>/dev/null
check "gen is deterministic for one seed" cmp "$TEST_TMP/a.stream" \
    "$TEST_TMP/b.stream"
"$fce" gen --out "$TEST_TMP/gen" --runs 2 --nodes 3 --retries 2 \
    --fail-percent 90 --seed 4 2>/dev/null
bad=0
for f in "$TEST_TMP"/gen/*.pb; do
    kind=${f##*-}
    "$fce" encode --kind "${kind%.pb}" "$f" >>"$TEST_TMP/gen.jsonl" 2>&1 ||
        bad=$((bad + 1))
done
check_eq "every generated request is valid" 0 "$bad"
check "generated runs hold retries and failures" sh -c \
    "grep -q 'RETRYABLE_FAILED' '$TEST_TMP/gen.jsonl' && grep -q '\\.FAILED\"' '$TEST_TMP/gen.jsonl'"
err=$("$fce" gen --stream "$TEST_TMP/empty.stream" --project '' 2>&1)
check_eq "gen exits 2 on an empty project" 2 $?
check "gen names the empty project" grep -q "invalid --project ''" <<<"$err"
check "gen writes nothing for an empty project" \
    test ! -e "$TEST_TMP/empty.stream"

mkdir -p "$TEST_TMP/rings"
"$fce" ring create "$TEST_TMP/rings/ingest.ring" --capacity 4MiB \
    --max-record 1MiB >/dev/null
line=$("$fce" stat --once --tsv --interval 0 "$TEST_TMP/rings" | head -n 1)
check_eq "stat --tsv lists the ring" \
    "ring	$TEST_TMP/rings/ingest.ring	ok	0	4194304	0	0	0	0	0.0" "$line"
tap_done
