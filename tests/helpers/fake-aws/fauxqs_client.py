#!/usr/bin/env python3
"""A small SNS/SQS client for the end-to-end tests, written against the
wire protocols with the Python standard library only, so it shares no code
with the C backends it checks. It talks to fauxqs on 127.0.0.1.

  fauxqs_client.py URL create-topic NAME          prints the topic ARN
  fauxqs_client.py URL create-queue NAME          prints the queue URL
  fauxqs_client.py URL subscribe ARN QUEUE [--raw]
  fauxqs_client.py URL receive QUEUE_URL --expect N --out FILE [--wait S]
  fauxqs_client.py check --messages FILE --manifest FILE --mode MODE ...

receive deletes what it reads and writes one JSON object per message
(Body, MessageAttributes, Attributes). check compares the messages with
the corpus manifest and exits 1 with the differences.
"""
import argparse
import hashlib
import json
import sys
import time
import urllib.parse
import urllib.request

ORDER = ["specversion", "id", "source", "type", "subject", "time",
         "datacontenttype", "jsonschemaurl", "data_base64"]


def sns(url, action, params):
    body = {"Action": action, "Version": "2010-03-31"}
    body.update(params)
    req = urllib.request.Request(
        url + "/", data=urllib.parse.urlencode(body).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def sqs(url, target, payload):
    req = urllib.request.Request(
        url + "/", data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "AmazonSQS." + target})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
        return json.loads(text) if text else {}


def between(text, tag):
    start = text.index("<%s>" % tag) + len(tag) + 2
    return text[start:text.index("</%s>" % tag, start)]


def create_topic(url, name):
    params = {"Name": name}
    if name.endswith(".fifo"):
        params.update({"Attributes.entry.1.key": "FifoTopic",
                       "Attributes.entry.1.value": "true"})
    print(between(sns(url, "CreateTopic", params), "TopicArn"))


def create_queue(url, name):
    payload = {"QueueName": name}
    if name.endswith(".fifo"):
        payload["Attributes"] = {"FifoQueue": "true"}
    print(sqs(url, "CreateQueue", payload)["QueueUrl"])


def subscribe(url, arn, queue, raw):
    region = arn.split(":")[3]
    endpoint = "arn:aws:sqs:%s:000000000000:%s" % (region, queue)
    out = sns(url, "Subscribe", {"TopicArn": arn, "Protocol": "sqs",
                                 "Endpoint": endpoint})
    sub = between(out, "SubscriptionArn")
    if raw:
        sns(url, "SetSubscriptionAttributes",
            {"SubscriptionArn": sub, "AttributeName": "RawMessageDelivery",
             "AttributeValue": "true"})
    print(sub)


def receive(url, queue_url, expect, out, wait):
    got = []
    deadline = time.time() + wait
    while len(got) < expect and time.time() < deadline:
        r = sqs(url, "ReceiveMessage", {
            "QueueUrl": queue_url, "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": 1, "MessageAttributeNames": ["All"],
            "MessageSystemAttributeNames": ["All"],
            "AttributeNames": ["All"]})
        messages = r.get("Messages", [])
        for m in messages:
            got.append({"Body": m["Body"],
                        "MessageAttributes": m.get("MessageAttributes", {}),
                        "Attributes": m.get("Attributes", {})})
        if messages:
            sqs(url, "DeleteMessageBatch", {
                "QueueUrl": queue_url,
                "Entries": [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(messages)]})
    with open(out, "w") as f:
        for m in got:
            f.write(json.dumps(m) + "\n")
    print(len(got))


def check_event(text, entry, problems):
    """Checks one structured CloudEvent against its manifest entry."""
    try:
        event = json.loads(text)
    except ValueError as e:
        problems.append("not JSON: %s: %r" % (e, text[:80]))
        return None
    want = dict(entry["attributes"])
    want["data_base64"] = entry["data_base64"]
    order = [k for k in ORDER if k in want]
    if list(event.keys()) != order:
        problems.append("members %s, expected %s" % (list(event), order))
    for k, v in want.items():
        if event.get(k) != v:
            problems.append("%s: %r, expected %r" % (k, event.get(k), v))
    return event


def check(args):
    manifest = json.load(open(args.manifest))["entries"]
    accepted = [e for e in manifest if e["expect"] == "accept"]
    if args.kind:
        accepted = [e for e in accepted if e["kind"] in args.kind.split(",")]
    excluded = set((args.exclude or "").split(","))
    accepted = [e for e in accepted if e["file"] not in excluded]
    if args.fifo:
        # FIFO drops a second message with the same deduplication id (the
        # CloudEvent id) within five minutes: only the first one arrives.
        first = {}
        for e in accepted:
            first.setdefault(e["attributes"]["id"], e)
        accepted = list(first.values())
    # Ids repeat in the corpus (the same event sent again with other data),
    # so messages are matched by their data.
    by_data = {e["data_base64"]: e for e in accepted}
    seen = {}
    problems = []
    attrs = [a for a in (args.attributes or "").split(",") if a]
    for line in open(args.messages):
        m = json.loads(line)
        body = m["Body"]
        sns_attrs = {}
        if args.mode == "envelope":
            env = json.loads(body)
            if env.get("Type") != "Notification":
                problems.append("envelope Type %r" % env.get("Type"))
            body = env["Message"]
            sns_attrs = {k: v.get("Value")
                         for k, v in env.get("MessageAttributes", {}).items()}
        else:
            sns_attrs = {k: v.get("StringValue")
                         for k, v in m["MessageAttributes"].items()}
        try:
            event = json.loads(body)
            ce_id, data = event["id"], event["data_base64"]
        except (ValueError, KeyError):
            problems.append("message without id and data: %r" % body[:80])
            continue
        entry = by_data.get(data)
        if entry is None:
            problems.append("unexpected event %r" % ce_id[:100])
            continue
        seen[data] = seen.get(data, 0) + 1
        mine = []
        check_event(body, entry, mine)
        if args.mode == "envelope" and args.subject:
            if env.get("Subject") != entry["attributes"]["subject"]:
                mine.append("Subject %r" % env.get("Subject"))
        for a in attrs:
            want = (entry["partition_key"] if a == "partitionkey"
                    else entry["attributes"].get(a))
            if sns_attrs.get("ce-" + a) != want:
                mine.append("attribute ce-%s %r, expected %r"
                            % (a, sns_attrs.get("ce-" + a), want))
        if len(sns_attrs) != len(attrs):
            mine.append("attributes %s, expected ce-%s"
                        % (sorted(sns_attrs), attrs))
        if args.fifo:
            a = m["Attributes"]
            if a.get("MessageGroupId") != entry["partition_key"]:
                mine.append("MessageGroupId %r" % a.get("MessageGroupId"))
            dedup = hashlib.sha256(ce_id.encode()).hexdigest()
            if a.get("MessageDeduplicationId") != dedup:
                mine.append("MessageDeduplicationId %r"
                            % a.get("MessageDeduplicationId"))
        problems += ["%s: %s" % (entry["file"], p) for p in mine]
    for data, e in by_data.items():
        if seen.get(data, 0) != 1:
            problems.append("%s delivered %d times" % (e["file"],
                                                        seen.get(data, 0)))
    for p in problems[:30]:
        print(p)
    if problems:
        print("%d problems" % len(problems))
        return 1
    print("ok %d events" % len(by_data))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        p = argparse.ArgumentParser()
        p.add_argument("check")
        p.add_argument("--messages", required=True)
        p.add_argument("--manifest", required=True)
        p.add_argument("--mode", choices=["raw", "envelope", "sqs"],
                       required=True)
        p.add_argument("--attributes")
        p.add_argument("--kind")
        p.add_argument("--exclude", help="corpus files not expected, "
                       "comma-separated")
        p.add_argument("--fifo", action="store_true")
        p.add_argument("--subject", action="store_true")
        sys.exit(check(p.parse_args()))
    url, command, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if command == "create-topic":
        create_topic(url, rest[0])
    elif command == "create-queue":
        create_queue(url, rest[0])
    elif command == "subscribe":
        subscribe(url, rest[0], rest[1], "--raw" in rest)
    elif command == "receive":
        p = argparse.ArgumentParser()
        p.add_argument("queue_url")
        p.add_argument("--expect", type=int, required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--wait", type=float, default=30)
        a = p.parse_args(rest)
        receive(url, a.queue_url, a.expect, a.out, a.wait)
    else:
        sys.exit("unknown command %s" % command)


if __name__ == "__main__":
    main()
