#!/usr/bin/env python3
"""Checks the records a kcat dump holds against the corpus manifest.

The dump comes from
    kcat -C -e -f '%p %o %K %S\\n%k%s\\n%h\\n'
so each record is a line "PARTITION OFFSET KEYLEN VALUELEN", then the key
and value bytes and a newline, then the headers line (name=value,...).

Prints one line "records=N dead_lettered=N missing=N duplicates=N bad=N
order_errors=N gaps=N early_duplicates=N" and, on stderr, the first problems found. Exit
status 0 when nothing is missing, bad or out of order, every partition's
offsets run from 0 without a gap (so the consumer saw the whole log), and
duplicates are allowed or absent. With --window-start N, a duplicate of one
of the first N events fed counts as an early duplicate, which fails.

With --count, prints only how many complete records the dump holds (a
consumer may still be writing it) and exits 0.
"""
import argparse
import base64
import json
import sys


def read_dump(path):
    """Parses every complete record; a record cut off at the end (the
    consumer is still writing) is left out."""
    records = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            break
        partition, offset, key_len, value_len = data[pos:end].split()
        pos = end + 1
        key_len, value_len = int(key_len), int(value_len)
        key = None
        if key_len >= 0:
            key = data[pos:pos + key_len]
            pos += key_len
        value = data[pos:pos + max(value_len, 0)]
        pos += max(value_len, 0) + 1
        end = data.find(b"\n", pos)
        if end < 0 or pos > len(data):
            break
        headers = parse_headers(data[pos:end].decode())
        pos = end + 1
        records.append({"partition": int(partition), "offset": int(offset),
                        "key": key, "value": value, "headers": headers})
    return records


def count_gaps(records):
    """Offsets missing per partition, from 0 to the highest seen. The mock
    cluster keeps a bounded log (about 5 MB per partition) and drops its
    oldest message sets beyond it, which shows up here as a gap."""
    highest, seen = {}, {}
    for r in records:
        p = r["partition"]
        highest[p] = max(highest.get(p, -1), r["offset"])
        seen.setdefault(p, set()).add(r["offset"])
    return sum(highest[p] + 1 - len(seen[p]) for p in highest)


def parse_headers(text):
    """Splits "a=1,b=2" at the commas that start a known header name."""
    headers = {}
    name = None
    for part in text.split(","):
        if "=" in part and (part.startswith("ce_") or
                            part.startswith("content-type=")):
            name, value = part.split("=", 1)
            headers[name] = value
        elif name is not None:
            headers[name] += "," + part
    return headers


def expected_events(manifest_path, repeat, unique, max_data_bytes):
    with open(manifest_path) as f:
        entries = [e for e in json.load(f)["entries"]
                   if e["expect"] == "accept"]
    if max_data_bytes is not None:
        entries = [e for e in entries
                   if len(base64.b64decode(e["data_base64"]))
                   <= max_data_bytes]
    events = []
    for rep in range(repeat):
        for e in entries:
            attrs = dict(e["attributes"])
            if unique:
                attrs["id"] += "#%d" % rep
            events.append({"attributes": attrs,
                           "data": base64.b64decode(e["data_base64"]),
                           "data_base64": e["data_base64"],
                           "partition_key": e["partition_key"]})
    return events


def check_record(record, event, mode, key_mode):
    attrs = event["attributes"]
    problems = []
    want_key = {"partitionKey": event["partition_key"].encode(),
                "id": attrs["id"].encode(), "none": None}[key_mode]
    if record["key"] != want_key:
        problems.append("key %r, expected %r" % (record["key"], want_key))
    headers = record["headers"]
    if mode == "binary":
        for name, value in attrs.items():
            header = ("content-type" if name == "datacontenttype"
                      else "ce_" + name)
            if headers.get(header) != value:
                problems.append("header %s=%r, expected %r"
                                % (header, headers.get(header), value))
        if "ce_datacontenttype" in headers:
            problems.append("ce_datacontenttype must not be sent")
        if record["value"] != event["data"]:
            problems.append("value is not the request bytes")
    else:
        if headers.get("content-type") != "application/cloudevents+json":
            problems.append("content-type %r" % headers.get("content-type"))
        body = json.loads(record["value"])
        for name, value in attrs.items():
            if body.get(name) != value:
                problems.append("member %s=%r, expected %r"
                                % (name, body.get(name), value))
        if body.get("data_base64") != event["data_base64"]:
            problems.append("data_base64 differs")
        if "data" in body:
            problems.append("data and data_base64 together")
    return problems


def read_dead_letter(path):
    """Identities of the events in a dead-letter file (none without one)."""
    if not path:
        return []
    idents = []
    with open(path) as f:
        for line in f:
            event = json.loads(line)["event"]
            idents.append((event.get("id"), event.get("data_base64")))
    return idents


def identity(record, mode):
    """An event's id plus its data: the corpus repeats some ids."""
    if mode == "binary":
        return (record["headers"].get("ce_id"),
                base64.b64encode(record["value"]).decode())
    body = json.loads(record["value"])
    return (body.get("id"), body.get("data_base64"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump", required=True)
    parser.add_argument("--count", action="store_true",
                        help="print the count of complete records only")
    parser.add_argument("--manifest")
    parser.add_argument("--mode", choices=["binary", "structured"])
    parser.add_argument("--max-data-bytes", type=int,
                        help="expect only events whose request is at most "
                             "this many bytes (as corpus_list LIST BYTES)")
    parser.add_argument("--window-start", type=int,
                        help="duplicates may only be of events fed after "
                             "the first N")
    parser.add_argument("--key", default="partitionKey",
                        choices=["partitionKey", "id", "none"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--unique", action="store_true")
    parser.add_argument("--allow-duplicates", action="store_true")
    parser.add_argument("--allow-missing", type=int, default=0,
                        help="events that may be missing")
    parser.add_argument("--dead-letter",
                        help="dead-letter file: its events count as "
                             "accounted for, and none may be in the topic")
    args = parser.parse_args()
    if args.count:
        print(len(read_dump(args.dump)))
        return 0
    if not args.manifest or not args.mode:
        parser.error("--manifest and --mode are required without --count")

    events = expected_events(args.manifest, args.repeat, args.unique,
                             args.max_data_bytes)
    positions = {}
    for i, e in enumerate(events):
        key = (e["attributes"]["id"], e["data_base64"])
        positions.setdefault(key, []).append(i)
    records = read_dump(args.dump)
    records.sort(key=lambda r: (r["partition"], r["offset"]))

    seen, problems = {}, []
    bad = duplicates = early_duplicates = order_errors = matched = 0
    last_per_key = {}
    for r in records:
        ident = identity(r, args.mode)
        slots = positions.get(ident)
        if slots is None:
            bad += 1
            problems.append("unexpected record %r" % (ident[0],))
            continue
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        if n >= len(slots):
            duplicates += 1
            if (args.window_start is not None
                    and slots[-1] < args.window_start):
                early_duplicates += 1
                problems.append("%s duplicated, but it was released before "
                                "the kill" % (ident[0],))
            continue
        index = slots[n]
        event = events[index]
        matched += 1
        found = check_record(r, event, args.mode, args.key)
        if found:
            bad += 1
            problems.append("%s: %s" % (ident[0], "; ".join(found)))
        # Order per key: first copies of one key's events follow feed order.
        key = (r["partition"], event["partition_key"])
        if index < last_per_key.get(key, -1):
            order_errors += 1
            problems.append("%s out of order in partition %d"
                            % (ident[0], r["partition"]))
        last_per_key[key] = max(index, last_per_key.get(key, -1))
    dead = 0
    for ident in read_dead_letter(args.dead_letter):
        slots = positions.get(ident)
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        if slots is None or n >= len(slots):
            bad += 1
            problems.append("%r dead-lettered but also delivered, or not "
                            "fed" % (ident[0],))
            continue
        dead += 1
        matched += 1
    missing = len(events) - matched
    for ident, slots in positions.items():
        if seen.get(ident, 0) < len(slots) and len(problems) < 20:
            problems.append("missing %r" % (ident[0],))

    gaps = count_gaps(records)
    if gaps:
        problems.append("%d offsets missing: the consumer did not read the "
                        "whole log (the mock cluster drops the oldest "
                        "records beyond its size limit)" % gaps)

    print("records=%d dead_lettered=%d missing=%d duplicates=%d bad=%d "
          "order_errors=%d gaps=%d early_duplicates=%d"
          % (len(records), dead, missing, duplicates, bad, order_errors,
             gaps, early_duplicates))
    for p in problems[:20]:
        print(p, file=sys.stderr)
    ok = (missing <= args.allow_missing and bad == 0 and order_errors == 0
          and gaps == 0 and early_duplicates == 0)
    if duplicates and not args.allow_duplicates:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
