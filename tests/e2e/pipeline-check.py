#!/usr/bin/env python3
"""Checks what the pipeline delivered against what ingest acknowledged.

  --acked FILE      base64 request bytes, one per acknowledged request
  --jsonl FILE      structured CloudEvents, one JSON object per line (the
                    file publisher's output, or kcat -f '%s\\n' of a
                    structured topic)
  --kcat-dump FILE  binary-mode records dumped with
                    kcat -f '%K %S\\n%k%s\\n%h\\n' (key, value, headers)
  --manifest FILE   also compare every attribute with the corpus manifest

Prints "NAME: delivered=N distinct=N missing=N duplicates=N bad=N" per
output and exits 1 when any acknowledged request is missing or any
attribute differs.
"""
import argparse
import base64
import collections
import json
import re
import sys


def read_acked(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def read_jsonl(path):
    events = []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except ValueError as e:
                raise SystemExit("%s:%d: not JSON: %s" % (path, number, e))
    return events


def read_kcat_dump(path):
    """Turns binary-mode records into dicts shaped like structured events."""
    with open(path, "rb") as f:
        data = f.read()
    events, pos = [], 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        key_len, value_len = (int(x) for x in data[pos:end].split())
        pos = end + 1
        key = data[pos:pos + max(key_len, 0)]
        pos += max(key_len, 0)
        value = data[pos:pos + max(value_len, 0)]
        pos += max(value_len, 0) + 1
        end = data.index(b"\n", pos)
        headers = {}
        # kcat joins headers with ',' without escaping, so split only where
        # a known header name follows.
        text = data[pos:end].decode("utf-8", "replace")
        for item in re.split(r",(?=(?:ce_[a-z0-9]+|content-type)=)", text):
            name, _, header_value = item.partition("=")
            if name:
                headers[name] = header_value
        pos = end + 1
        event = {"data_base64": base64.b64encode(value).decode(),
                 "_key": key.decode("utf-8", "replace")}
        for name, text in headers.items():
            if name.startswith("ce_"):
                event[name[3:]] = text
            elif name == "content-type":
                event["datacontenttype"] = text
        events.append(event)
    return events


def check(name, events, acked, manifest):
    delivered = collections.Counter(e.get("data_base64") for e in events)
    missing = [a for a in set(acked) if delivered[a] == 0]
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    bad = 0
    for event in events:
        expected = manifest.get(event.get("data_base64"))
        if expected is None:
            continue
        for attr, value in expected["attributes"].items():
            if event.get(attr) != value:
                bad += 1
                if bad <= 5:
                    print("# %s: %s: %s is %r, expected %r"
                          % (name, expected["file"], attr, event.get(attr),
                             value), file=sys.stderr)
        if "_key" in event and event["_key"] != expected["partition_key"]:
            bad += 1
            print("# %s: %s: key %r, expected %r"
                  % (name, expected["file"], event["_key"],
                     expected["partition_key"]), file=sys.stderr)
    for m in missing[:5]:
        print("# %s: missing %s..." % (name, m[:40]), file=sys.stderr)
    print("%s: delivered=%d distinct=%d missing=%d duplicates=%d bad=%d"
          % (name, len(events), len(delivered), len(missing), duplicates,
             bad))
    return not missing and not bad


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--acked", required=True)
    p.add_argument("--jsonl", action="append", default=[])
    p.add_argument("--kcat-dump", action="append", default=[])
    p.add_argument("--manifest")
    args = p.parse_args()

    acked = read_acked(args.acked)
    manifest = {}
    if args.manifest:
        for e in json.load(open(args.manifest))["entries"]:
            if e["expect"] == "accept":
                manifest[e["data_base64"]] = e
    ok = True
    for path in args.jsonl:
        ok &= check(path, read_jsonl(path), acked, manifest)
    for path in args.kcat_dump:
        ok &= check(path, read_kcat_dump(path), acked, manifest)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
