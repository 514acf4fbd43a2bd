#!/usr/bin/python3
"""Check CloudEvents in structured JSON mode, one per line.

Each line must parse with Python's json module and follow CloudEvents 1.0:
an object with the required members id, source, specversion and type,
specversion exactly "1.0", every attribute a non-empty string whose name
matches ^[a-z0-9]+$, time in RFC 3339, data_base64 valid padded base64, and
never both data and data_base64. String attributes must not contain
control characters (U+0000..U+001F, U+007F..U+009F), surrogates or
noncharacters.

With --manifest and --files, line N is also compared with the manifest
entry of the N-th file: exactly its attributes, data_base64, and
nothing else.

usage: ce_check.py [--manifest FILE --files FILE...] < events.jsonl
Prints one problem per line on stderr and exits 1 when there are any.
"""
import base64
import binascii
import json
import re
import sys

NAME = re.compile(r"^[a-z0-9]+$")
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(Z|[+-]\d{2}:\d{2})$")
BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|"
                    r"[A-Za-z0-9+/]{3}=)?$")
REQUIRED = ("id", "source", "specversion", "type")


def bad_character(text):
    for ch in text:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp <= 0x9F:
            return "control character U+%04X" % cp
        if 0xD800 <= cp <= 0xDFFF:
            return "surrogate U+%04X" % cp
        if 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:
            return "noncharacter U+%04X" % cp
    return None


def valid_time(text):
    match = RFC3339.match(text)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    days = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0)
            else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return (1 <= month <= 12 and 1 <= day <= days[month - 1] and hour < 24
            and minute < 60 and second < 60)


def check_event(event):
    """Returns the problems of one parsed event."""
    problems = []
    if not isinstance(event, dict):
        return ["not a JSON object"]
    for name in REQUIRED:
        if name not in event:
            problems.append("required member %s missing" % name)
    if event.get("specversion") != "1.0":
        problems.append("specversion is %r, expected \"1.0\"" %
                        event.get("specversion"))
    if "data" in event and "data_base64" in event:
        problems.append("data and data_base64 together")
    for name, value in event.items():
        if name == "data_base64":
            if not isinstance(value, str) or not BASE64.match(value):
                problems.append("data_base64 is not padded base64")
                continue
            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as error:
                problems.append("data_base64 does not decode: %s" % error)
            continue
        if name == "data":
            continue
        if not NAME.match(name):
            problems.append("attribute name %r is not [a-z0-9]+" % name)
        if not isinstance(value, str):
            problems.append("attribute %s is not a string" % name)
            continue
        if value == "":
            problems.append("attribute %s is empty" % name)
        why = bad_character(value)
        if why:
            problems.append("attribute %s contains a %s" % (name, why))
    if isinstance(event.get("time"), str) and not valid_time(event["time"]):
        problems.append("time %r is not RFC 3339" % event["time"])
    return problems


def compare(event, entry):
    problems = []
    expected = dict(entry["attributes"])
    expected["data_base64"] = entry["data_base64"]
    for name in sorted(set(expected) | set(event)):
        if event.get(name) != expected.get(name):
            problems.append("%s is %r, expected %r" %
                            (name, event.get(name), expected.get(name)))
    return problems


def main(argv):
    manifest = None
    files = []
    if "--manifest" in argv:
        with open(argv[argv.index("--manifest") + 1]) as handle:
            entries = json.load(handle)["entries"]
        manifest = {entry["file"]: entry for entry in entries}
        files = argv[argv.index("--files") + 1:]

    failures = 0
    count = 0
    for number, line in enumerate(sys.stdin.buffer, 1):
        count += 1
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            print("line %d: invalid JSON: %s" % (number, error),
                  file=sys.stderr)
            failures += 1
            continue
        problems = check_event(event)
        if manifest is not None:
            if number > len(files):
                problems.append("more events than files")
            else:
                key = re.sub(r"^.*?((?:in)?valid/[^/]+)$", r"\1",
                             files[number - 1])
                problems += compare(event, manifest[key])
        for problem in problems:
            print("line %d: %s" % (number, problem), file=sys.stderr)
        failures += bool(problems)
    if manifest is not None and count != len(files):
        print("%d events for %d files" % (count, len(files)), file=sys.stderr)
        failures += 1
    print("%d events checked, %d with problems" % (count, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
