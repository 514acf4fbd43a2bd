#!/usr/bin/env python3
"""Checks the records a kcat dump holds against the corpus manifest.

The dump comes from
    kcat -C -e -f '%p %o %K %S\\n%k%s\\n%h\\n'
so each record is a line "PARTITION OFFSET KEYLEN VALUELEN", then the key
and value bytes and a newline, then the headers line (name=value,...).

Prints one line "records=N missing=N duplicates=N bad=N order_errors=N"
and, on stderr, the first problems found. Exit status 0 when nothing is
missing, bad or out of order, and duplicates are allowed or absent.
"""
import argparse
import base64
import json
import sys


def read_dump(path):
    records = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        partition, offset, key_len, value_len = data[pos:end].split()
        pos = end + 1
        key_len, value_len = int(key_len), int(value_len)
        key = None
        if key_len >= 0:
            key = data[pos:pos + key_len]
            pos += key_len
        value = data[pos:pos + max(value_len, 0)]
        pos += max(value_len, 0) + 1
        end = data.index(b"\n", pos)
        headers = parse_headers(data[pos:end].decode())
        pos = end + 1
        records.append({"partition": int(partition), "offset": int(offset),
                        "key": key, "value": value, "headers": headers})
    return records


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


def expected_events(manifest_path, repeat, unique):
    with open(manifest_path) as f:
        entries = [e for e in json.load(f)["entries"]
                   if e["expect"] == "accept"]
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
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--mode", choices=["binary", "structured"],
                        required=True)
    parser.add_argument("--key", default="partitionKey",
                        choices=["partitionKey", "id", "none"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--unique", action="store_true")
    parser.add_argument("--allow-duplicates", action="store_true")
    parser.add_argument("--allow-missing", type=int, default=0,
                        help="events that may be missing (dead-lettered)")
    args = parser.parse_args()

    events = expected_events(args.manifest, args.repeat, args.unique)
    positions = {}
    for i, e in enumerate(events):
        key = (e["attributes"]["id"], e["data_base64"])
        positions.setdefault(key, []).append(i)
    records = read_dump(args.dump)
    records.sort(key=lambda r: (r["partition"], r["offset"]))

    seen, problems = {}, []
    bad = duplicates = order_errors = matched = 0
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
    missing = len(events) - matched
    for ident, slots in positions.items():
        if seen.get(ident, 0) < len(slots) and len(problems) < 20:
            problems.append("missing %r" % (ident[0],))

    print("records=%d missing=%d duplicates=%d bad=%d order_errors=%d"
          % (len(records), missing, duplicates, bad, order_errors))
    for p in problems[:20]:
        print(p, file=sys.stderr)
    ok = missing <= args.allow_missing and bad == 0 and order_errors == 0
    if duplicates and not args.allow_duplicates:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
